console.error('example-app: the example is not built yet (see issue 6)');
process.exit(1);
