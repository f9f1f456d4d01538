/**
 * A renderer process. The host starts it before it is needed: Node boots, koffi loads and the
 * region is mapped and checked while the user is still typing; on `load` it runs the new program.
 * It never outlives the owner: PR_SET_PDEATHSIG asks Linux to kill it when the owner dies, and the
 * control pipe's end closing ends it everywhere else.
 */
import { checkPid, ENV } from '../../state/runtime.js';
import { dieWithParent } from './pdeathsig.js';

// First thing, before the library loads: an owner that died while this process was booting
// must not leave it behind, and from here on Linux kills it with its owner.
await dieWithParent(checkPid(Number(process.env[ENV.ownerPid]), ENV.ownerPid));
await import('./process-main.js');
