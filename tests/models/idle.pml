/*
 * The idle protocol of cogo's scheduler (include/cogo/detail/idle.hpp), for spin.
 *
 * Two workers and one outside thread. The outside thread pushes two items into the global
 * queue (a worker may take both at once, keeping one in its local queue) and arms a timer
 * whose deadline then passes; tasks run by the workers push more
 * work into their local queue or their next-to-run slot, and one of them may keep its
 * worker busy until the task it woke into its slot has been taken by the other worker
 * (a task that spins or blocks after a wake-up), or until some other item has run (a long
 * task with work queued behind it). When every item has run, the outside
 * thread stops the scheduler, as the Scheduler destructor does once drained.
 *
 * Each atomic block is one step of the implementation: a read-modify-write of the idle
 * word, a section under the idle set's lock, an exchange on a slot, a section under the
 * timer service's lock. Sleeping is a blocking guard that only an interrupt (or, for the
 * keeper, a passed deadline or a monitor period) satisfies.
 *
 * spin reports an invalid end state if any process can block for ever: a worker asleep
 * with work queued or after stop (a lost wake-up), or the outside thread waiting for work
 * that no worker will run (a stranded item). The asserts check that no item is run twice
 * or lost and that nothing is left at stop.
 */

#define W 2
#define NONE 255

byte gq = 0;          /* items in the global queue */
byte lq[W];           /* items in each local queue */
byte rn[W];           /* items in each next-to-run slot (0 or 1) */
byte total = 0;       /* items made */
byte done = 0;        /* items run */
byte budget = 1;      /* items tasks may still make */

bit inlist[W];        /* in the idle set */
bit woken[W];         /* taken out of the set by wake_one, counted spinning */
bit intr[W];          /* a pending interrupt of the worker's poller */
bit spinning[W];
byte nidle = 0;       /* the idle word: idle count ... */
byte nspin = 0;       /* ... and spinning count */
bit stopping = 0;
byte keeper = NONE;

bit monitoring = 0;   /* the keeper watches next-to-run slots */
bit blocked[W];       /* the worker runs a task that waits for its slot to be taken */
bit one_blocked = 0;

bit timer_armed = 0;
bit timer_due = 0;    /* its deadline has passed */
bit planned = 0;      /* the keeper planned to wake for the armed timer */

inline wake_one(t) {
  atomic {
    if
    :: inlist[0] -> t = 0
    :: inlist[1] -> t = 1
    :: else -> t = NONE
    fi;
    if
    :: t != NONE -> inlist[t] = 0; woken[t] = 1; nidle--; nspin++
    :: else -> skip
    fi
  }
  atomic {
    if
    :: t != NONE -> intr[t] = 1
    :: else -> skip
    fi;
    t = 0  /* temporaries are reset so that they do not multiply the states */
  }
}

inline notify_work(t) {
  atomic { si = nidle; sp = nspin }  /* the read-modify-write of the idle word */
  if
  :: atomic { sp == 0 && si > 0 -> si = 0; sp = 0 }; wake_one(t)
  :: atomic { else -> si = 0; sp = 0 }
  fi
}

/* Interrupt the keeper, or wake an idle worker to become one. */
inline tell_driver(t) {
  if
  :: atomic { keeper != NONE -> intr[keeper] = 1 }
  :: atomic { keeper == NONE -> t = NONE }; wake_one(t)
  fi
}

/* find_work: every source, in the order SchedulerImpl::find_work looks at them; sets
   got to 1 if it took an item. */
inline find_work(me, other, got) {
  got = 0;
  atomic {
    if
    :: rn[me] > 0 -> rn[me]--; got = 1
    :: else ->
       if
       :: lq[me] > 0 -> lq[me]--; got = 1
       :: else ->
          if
          :: gq > 1 -> gq = gq - 2; lq[me]++; got = 1; batch = 1  /* a batch: one kept */
          :: gq == 1 -> gq--; got = 1
          :: else ->
             if
             :: timer_armed && timer_due ->
                timer_armed = 0; timer_due = 0; total++;
                /* the woken task goes to this worker's slot, displacing one to its
                   queue, and find_work takes it at once (leaving it in the slot for
                   "the next look" strands it: spin finds that in a few hundred steps) */
                if
                :: rn[me] > 0 -> rn[me]--; lq[me]++
                :: else -> skip
                fi;
                got = 1
             :: else ->
                if
                :: lq[other] > 0 -> lq[other]--; got = 1                  /* steal */
                :: else ->
                   if
                   :: rn[other] > 0 && blocked[other] -> rn[other]--; got = 1  /* stuck */
                   :: else -> skip
                   fi
                fi
             fi
          fi
       fi
    fi
  }
}

proctype worker(byte me) {
  byte other = 1 - me;
  bit got;
  bit was_keeper;
  bit mon_planned;
  bit spun;
  bit batch;  /* find_work took a batch and kept part of it in the local queue */
  bit rechecked;
  byte d0;
  byte t;
  byte si, sp;

loop:
  find_work(me, other, got);
  if
  :: atomic { batch -> batch = 0 }; notify_work(t)
  :: else -> skip
  fi;
  if
  :: atomic { got -> got = 0 }; goto run_item
  :: else -> skip
  fi;
  if
  :: stopping -> goto out
  :: else -> skip
  fi;
  /* spin once per idle episode, as start_spinning allows */
  if
  :: !spun && !spinning[me] ->
     atomic {
       if
       :: (nspin == 0 || 2 * nspin < W - nidle) -> nspin++; spinning[me] = 1
       :: else -> skip
       fi
     };
     spun = 1;
     goto loop
  :: else -> skip
  fi;
  spun = 0;

  /* announce: join the set and stop spinning in one step */
  atomic {
    inlist[me] = 1; nidle++;
    if
    :: spinning[me] -> spinning[me] = 0; nspin--
    :: else -> skip
    fi
  }
  if
  :: stopping -> goto retract_out
  :: else -> skip
  fi;
  find_work(me, other, got);  /* the recheck */
  if
  :: atomic { batch -> batch = 0 }; notify_work(t)
  :: else -> skip
  fi;
  if
  :: atomic { got -> got = 0; rechecked = 1 }; goto retract_run
  :: else -> skip
  fi;

  /* the keeper keeps the role across its idle episodes, until it has work to run */
  atomic {
    if
    :: keeper == NONE -> keeper = me
    :: else -> skip
    fi;
    was_keeper = (keeper == me)
  }
  mon_planned = 0;
  if
  :: was_keeper ->
     atomic { planned = timer_armed };  /* plan_wake, under the service's lock */
     if
     :: monitoring ->
        if
        :: rn[0] + rn[1] == 0 ->
           monitoring = 0;
           if
           :: rn[0] + rn[1] > 0 -> monitoring = 1
           :: else -> skip
           fi
        :: else -> skip
        fi
     :: else -> skip
     fi;
     mon_planned = monitoring
  :: else -> skip
  fi;

  /* sleep in the poller */
  (intr[me] || (was_keeper && ((planned && timer_due) || mon_planned)));
  atomic { intr[me] = 0; was_keeper = 0; mon_planned = 0 }  /* consume */
  atomic {
    if
    :: woken[me] -> woken[me] = 0; spinning[me] = 1
    :: else ->
       if
       :: inlist[me] -> inlist[me] = 0; nidle--
       :: else -> skip
       fi
    fi
  }
  goto loop;

retract_run:
  atomic {
    if
    :: woken[me] -> woken[me] = 0; spinning[me] = 1
    :: else ->
       if
       :: inlist[me] -> inlist[me] = 0; nidle--
       :: else -> skip
       fi
    fi
  }
  /* the recheck found work: notifiers that counted on this worker spinning woke nobody */
  if
  :: atomic { rechecked -> rechecked = 0 }; notify_work(t)
  :: else -> skip
  fi;

run_item:
  /* the keeper leaves to run a task: if timers are armed or slots watched, get an idle
     worker to take the role over, since this one may not be back for a while */
  if
  :: atomic { keeper == me -> keeper = NONE; planned = 0 };
     if
     :: monitoring || timer_armed -> wake_one(t)
     :: else -> skip
     fi
  :: else -> skip
  fi;
  /* found_work: the last spinner to find work gets another one looking */
  if
  :: spinning[me] ->
     atomic { spinning[me] = 0; nspin--; sp = nspin };
     if
     :: atomic { sp == 0 -> sp = 0 }; wake_one(t)
     :: atomic { else -> sp = 0 }
     fi
  :: else -> skip
  fi;
  /* the task may make more work; it is done once that is queued */
  if
  :: atomic { budget > 0 -> budget--; total++; lq[me]++ }; notify_work(t)
  :: atomic { budget > 0 && rn[me] == 0 -> budget--; total++; rn[me] = 1 };
     if
     :: !monitoring -> monitoring = 1; tell_driver(t)  /* request_monitor */
     :: else -> skip
     fi;
     /* and may keep the worker until another worker took the slot */
     if
     :: atomic { !one_blocked -> one_blocked = 1; blocked[me] = 1 };
        (rn[me] == 0);
        blocked[me] = 0
     :: skip
     fi
  /* or keep the worker until some other item has run, on the other worker (a long task
     with work queued behind it) */
  :: atomic { !one_blocked && (gq + lq[0] + lq[1] + rn[0] + rn[1] > 0) ->
       one_blocked = 1; blocked[me] = 1; d0 = done };
     (done > d0);
     atomic { blocked[me] = 0; d0 = 0 }
  :: skip
  fi;
  done++;
  assert(done <= total);
  goto loop;

retract_out:
  atomic {
    if
    :: woken[me] -> woken[me] = 0; spinning[me] = 1
    :: else ->
       if
       :: inlist[me] -> inlist[me] = 0; nidle--
       :: else -> skip
       fi
    fi
  }
out:
  if
  :: spinning[me] -> atomic { spinning[me] = 0; nspin-- }
  :: else -> skip
  fi;
  if
  :: atomic { keeper == me -> keeper = NONE }
  :: else -> skip
  fi;
  assert(gq == 0 && lq[me] == 0 && rn[me] == 0 && !timer_armed)
}

proctype outside() {
  byte t;
  byte si, sp;
  bit notify;
  atomic { total++; gq++ };
  notify_work(t);
  atomic { total++; gq++ };
  notify_work(t);
#ifndef NOTIMER
  /* arm a timer earlier than anything planned (without it, NOTIMER, a lost wake-up
     cannot be hidden by the keeper waking for the timer) */
  atomic { timer_armed = 1; notify = !planned; planned = 1 };
  if
  :: notify -> tell_driver(t)
  :: else -> skip
  fi;
  timer_due = 1;  /* its deadline passes */
#endif
  /* the destructor's drain: every item run, the timer fired */
  (done == total && !timer_armed);
  /* stop: the flag, then an interrupt for every idle worker under the set's lock */
  stopping = 1;
  atomic {
    if
    :: inlist[0] -> intr[0] = 1
    :: else -> skip
    fi;
    if
    :: inlist[1] -> intr[1] = 1
    :: else -> skip
    fi
  }
}

init {
  atomic {
    run worker(0);
    run worker(1);
    run outside()
  }
}
