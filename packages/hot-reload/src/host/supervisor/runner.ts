/**
 * The standby process. The supervisor starts it before it is needed: Node boots, koffi loads and
 * the region is mapped and checked while the user is still typing. On `load` it imports the new
 * bundle (which finds the mapped region through the hand-off) and calls its `main()`. It never
 * outlives the owner: PR_SET_PDEATHSIG asks Linux to kill it when the owner dies, and a timer
 * checks the owner's pid for what that misses (another OS, or an owner that died before prctl).
 */
import { checkPid, ENV } from '../../state/runtime.js';
import { dieWithParent } from './pdeathsig.js';

// First thing, before the library loads: an owner that died while this process was booting
// must not leave it behind, and from here on Linux kills it with its owner.
await dieWithParent(checkPid(Number(process.env[ENV.ownerPid]), ENV.ownerPid));
await import('./runner-main.js');
