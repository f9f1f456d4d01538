/**
 * A module with a source map and nothing else: each standby imports it once while it waits, so
 * that the first import of a file and the first source map (a few milliseconds of lazy
 * compilation in Node's own loader) are not paid on the first reload.
 */
export const warm = 1;
