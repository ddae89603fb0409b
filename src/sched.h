/* sched.h — compatibility wrapper.  The anneal-schedule API lives in schedule.h: a plain
 * src/sched.h would shadow the C library's <sched.h> (which <pthread.h> includes) because src/
 * is on the include path.  This file first pulls in the system header, then ours, so both
 * `#include <pthread.h>` and `#include "sched.h"` keep working. */
#include_next <sched.h>
#include "schedule.h"
