/**
 * create-hotshm: the generator behind `npm create hotshm`, as a library (the CLI is `create-hotshm`).
 */
export type { CreatedProject, CreateOptions, TemplateName } from './create.js';
export {
  CreateError,
  CreateErrorCode,
  createProject,
  DEFAULT_DIR,
  DEFAULT_TEMPLATE,
  nextSteps,
  packageManager,
  packageNameFor,
  TEMPLATES,
  VERSIONS,
} from './create.js';
