/* The buffered channel's protocol (include/cogo/detail/chan_ring.hpp, chan_state.hpp):
 * the lock-free ring with per-slot stamps, the marks that parked parties leave on the
 * slot they wait for, settle() under the lock, and close.
 *
 * One sender sends NVALUES values (each: the lock-free attempt, then the locked poll that
 * marks, then parking); one receiver receives until the channel is closed and drained,
 * each receive being a two-case select whose other case (a canceller, like ctx.done())
 * may claim it once, so a stale waiter can sit in the list; one closer closes at any
 * moment; or (with -DNOCLOSE) nobody closes and the receiver stops after NVALUES values,
 * so that a lost wake-up cannot be rescued by close waking everyone. Checked, for CAP 1
 * and 2, with and without the closer:
 *   - no lost wake-up: every process ends (a parked party never woken is an invalid end
 *     state);
 *   - no value lost or duplicated: each value whose send returned true is received
 *     exactly once, those whose send returned false never, and in the order sent;
 *   - a waiter is claimed only with a value (or "closed") to give it.
 * A step of the model is one atomic instruction of the C++ code: a load, a store, a
 * compare-exchange or a fetch_add of one word. A slot's stamp and its two marks are one
 * word. Run: spin -a -DCAP=2 chan_ring.pml && cc -DSAFETY -o pan pan.c && ./pan
 */

#ifndef CAP
#define CAP 2
#endif
#define NVALUES 2
#if CAP == 1
#define LAP 2
#else
#define LAP 4
#endif
#define MASK (LAP - 1)
#ifdef NOCLOSE
#define NPARTIES 3
#else
#define NPARTIES 4
#endif
#define LAST (CAP - 1)
#define NEXT(p) (((p) & MASK) == LAST -> ((p) | MASK) + 1 : (p) + 1)

/* The ring. */
byte stamp[CAP];
bit rmark[CAP];    /* kRecvMark */
bit smark[CAP];    /* kSendMark */
byte val[CAP];     /* 0: no value constructed */
byte head = 0;
byte tail = 0;
bit closed = 0;    /* kClosed, in the same word as tail */

/* The lock and the parked parties (one each at most). */
bit mu = 0;
bit rqueued = 0;   /* the receiver's waiter is in recvq_ */
byte rwinner = 0;  /* its WaitState: 0 open, 1 the channel case, 2 the canceller */
bit rparked = 0;   /* registered (the canceller may claim from then on) */
byte rgot = 0;     /* the optional the waker fills */
bit rwoken = 0;
bit squeued = 0;
byte sval = 0;     /* the parked sender's value */
bit sok = 0;
bit swoken = 0;

/* Outcomes. */
bit sent_ok[NVALUES + 1];
byte received[NVALUES + 1];
byte finished = 0;

#define lock() atomic { mu == 0 -> mu = 1 }
#define unlock() mu = 0

/* give_to_receiver(): the head slot, full and marked, to the claimed receiver. */
inline give_to_receiver(moved) {
  moved = 0;
  gh = head;
  atomic { gst = stamp[gh & MASK]; grm = rmark[gh & MASK]; gsm = smark[gh & MASK] }
  if
  :: grm == 1 && gst == gh + 1 ->
     /* dequeue_claimable */
     gclaimed = 0;
     if
     :: rqueued == 1 ->
        rqueued = 0;
        atomic { if :: rwinner == 0 -> rwinner = 1; gclaimed = 1 :: else -> skip fi }
     :: else -> skip
     fi;
     if
     :: gclaimed == 0 ->   /* no claimable waiter: unmark (a store of the word as read) */
        atomic { stamp[gh & MASK] = gst; rmark[gh & MASK] = 0; smark[gh & MASK] = gsm }
     :: else ->
        assert(val[gh & MASK] != 0);
        rgot = val[gh & MASK]; val[gh & MASK] = 0;
        head = NEXT(gh);
        atomic { stamp[gh & MASK] = gh + LAP; rmark[gh & MASK] = 0; smark[gh & MASK] = gsm }
        wake_r = 1;
        moved = 1
     fi
  :: else -> skip
  fi
}

/* take_from_sender(): the tail slot, free and marked, filled from the claimed sender. */
inline take_from_sender(moved) {
  moved = 0;
  if
  :: closed == 0 ->
     gt = tail;
     atomic { gst = stamp[gt & MASK]; grm = rmark[gt & MASK]; gsm = smark[gt & MASK] }
     if
     :: gsm == 1 && gst == gt ->
        if
        :: squeued == 1 ->
           squeued = 0;   /* a single sender: always claimable */
           val[gt & MASK] = sval;
           tail = NEXT(gt);
           atomic { stamp[gt & MASK] = gt + 1; smark[gt & MASK] = 0; rmark[gt & MASK] = grm }
           sok = 1; wake_s = 1;
           moved = 1
        :: else -> atomic { stamp[gt & MASK] = gst; smark[gt & MASK] = 0; rmark[gt & MASK] = grm }
        fi
     :: else -> skip
     fi
  :: else -> skip
  fi
}

inline settle() {
  do
  :: give_to_receiver(m1); take_from_sender(m2);
     if :: m1 == 0 && m2 == 0 -> break :: else -> skip fi
  od
}

inline wake_parked() {
  if :: wake_r == 1 -> wake_r = 0; rwoken = 1 :: else -> skip fi;
  if :: wake_s == 1 -> wake_s = 0; swoken = 1 :: else -> skip fi
}

/* leave_locked(): marks nobody needs any more. */
inline leave() {
  if :: rqueued == 0 -> rmark[head & MASK] = 0 :: else -> skip fi;
  if :: squeued == 0 -> smark[tail & MASK] = 0 :: else -> skip fi
}

proctype Sender() {
  byte v = 1, t, st, old, gh, gt, gst, m1, m2;
  bit rm, sm, grm, gsm, gclaimed, wake_r, wake_s, done, result;
  do
  :: v > NVALUES -> break
  :: else ->
     done = 0;
     /* try_push: lock-free */
     t = tail;
     do
     :: closed == 1 -> result = 0; done = 1; break
     :: else ->
        atomic { st = stamp[t & MASK]; rm = rmark[t & MASK]; sm = smark[t & MASK] }
        if
        :: st == t && sm == 0 ->
           atomic {
             if
             :: tail == t && closed == 0 -> tail = NEXT(t); old = 1
             :: else -> t = tail; old = 0
             fi
           }
           if
           :: old == 1 ->
              val[t & MASK] = v;
              atomic { old = rmark[t & MASK]; stamp[t & MASK] = stamp[t & MASK] + 1 };
              if
              :: old == 1 -> lock(); settle(); unlock(); wake_parked()
              :: else -> skip
              fi;
              result = 1; done = 1; break
           :: else -> skip
           fi
        :: st == t && sm == 1 -> break   /* locked */
        :: st + LAP == t + 1 && head + LAP == t -> break   /* full */
        :: else -> t = tail
        fi
     od;
     if
     :: done == 0 ->
        /* send_locked(mark) */
        lock();
        do
        :: closed == 1 -> result = 0; done = 1; break
        :: else ->
           t = tail;
           atomic { st = stamp[t & MASK]; rm = rmark[t & MASK]; sm = smark[t & MASK] }
           if
           :: st == t && sm == 1 -> settle()
           :: st == t && sm == 0 ->
              atomic {
                if
                :: tail == t && closed == 0 -> tail = NEXT(t); old = 1
                :: else -> old = 0
                fi
              }
              if
              :: old == 1 ->
                 val[t & MASK] = v;
                 atomic { old = rmark[t & MASK]; stamp[t & MASK] = stamp[t & MASK] + 1 };
                 if :: old == 1 -> settle() :: else -> skip fi;
                 result = 1; done = 1; break
              :: else -> skip
              fi
           :: st + LAP == t + 1 && head + LAP == t ->
              if
              :: sm == 1 -> break
              :: else ->
                 atomic {
                   if
                   :: stamp[t & MASK] == st && rmark[t & MASK] == rm && smark[t & MASK] == 0 ->
                      smark[t & MASK] = 1; old = 1
                   :: else -> old = 0
                   fi
                 }
                 if :: old == 1 -> break :: else -> skip fi
              fi
           :: else -> skip
           fi
        od;
        if
        :: done == 0 ->
           sval = v; sok = 0; swoken = 0; squeued = 1;   /* enqueue */
           unlock(); wake_parked();
           swoken == 1;                                  /* parked */
           result = sok
        :: else -> unlock(); wake_parked()
        fi
     :: else -> skip
     fi;
     sent_ok[v] = result;
     v++
  od;
  finished++
}

proctype Receiver() {
  byte h, t, st, old, got, last = 0, gh, gt, gst, m1, m2;
  bit rm, sm, grm, gsm, gclaimed, wake_r, wake_s, done, isclosed;
  do
  :: done = 0; isclosed = 0; got = 0;
     atomic { rparked = 0; rwinner = 0 };   /* a fresh WaitState */
     /* try_pop: lock-free */
     h = head;
     do
     :: atomic { st = stamp[h & MASK]; rm = rmark[h & MASK]; sm = smark[h & MASK] };
        if
        :: st == h + 1 && rm == 0 ->
           atomic { if :: head == h -> head = NEXT(h); old = 1 :: else -> h = head; old = 0 fi };
           if
           :: old == 1 ->
              got = val[h & MASK]; val[h & MASK] = 0;
              atomic { old = smark[h & MASK]; stamp[h & MASK] = stamp[h & MASK] + LAP - 1 };
              if
              :: old == 1 -> lock(); settle(); unlock(); wake_parked()
              :: else -> skip
              fi;
              done = 1; break
           :: else -> skip
           fi
        :: st == h + 1 && rm == 1 -> break   /* locked */
        :: st == h ->
           atomic { t = tail; isclosed = closed };
           if
           :: t == h && isclosed == 1 -> done = 1; break
           :: t == h && isclosed == 0 -> break   /* blocked */
           :: else -> h = head                   /* a send in flight */
           fi
        :: else -> h = head
        fi
     od;
     if
     :: done == 0 ->
        /* recv_locked(mark) */
        lock();
        do
        :: h = head;
           atomic { st = stamp[h & MASK]; rm = rmark[h & MASK]; sm = smark[h & MASK] };
           if
           :: st == h + 1 && rm == 1 -> settle()
           :: st == h + 1 && rm == 0 ->
              atomic { if :: head == h -> head = NEXT(h); old = 1 :: else -> old = 0 fi };
              if
              :: old == 1 ->
                 got = val[h & MASK]; val[h & MASK] = 0;
                 atomic { old = smark[h & MASK]; stamp[h & MASK] = stamp[h & MASK] + LAP - 1 };
                 if :: old == 1 -> settle() :: else -> skip fi;
                 done = 1; break
              :: else -> skip
              fi
           :: st == h ->
              atomic { t = tail; isclosed = closed };
              if
              :: t == h && isclosed == 1 -> done = 1; break
              :: t == h && isclosed == 0 && rm == 1 -> break
              :: t == h && isclosed == 0 && rm == 0 ->
                 atomic {
                   if
                   :: stamp[h & MASK] == st && rmark[h & MASK] == 0 && smark[h & MASK] == sm ->
                      rmark[h & MASK] = 1; old = 1
                   :: else -> old = 0
                   fi
                 }
                 if :: old == 1 -> break :: else -> skip fi
              :: else -> skip   /* a send in flight: spin */
              fi
           :: else -> skip
           fi
        od;
        if
        :: done == 0 ->
           rgot = 0; rwoken = 0; rqueued = 1; rparked = 1;   /* enqueue */
           unlock(); wake_parked();
           rwoken == 1;                                     /* parked */
           if
           :: rwinner == 2 ->
              /* the canceller won: unregister, then receive again */
              lock();
              rqueued = 0;
              leave();
              unlock();
              got = 255
           :: else -> got = rgot
           fi
        :: else -> unlock(); wake_parked()
        fi
     :: else -> skip
     fi;
     if
     :: got == 255 -> skip
     :: got == 0 -> break   /* closed and drained */
     :: else ->
        assert(got > last);   /* in the order sent */
        last = got;
        received[got]++;
#ifdef NOCLOSE
        if :: got == NVALUES -> break :: else -> skip fi
#endif
     fi
  od;
  finished++
}

/* The select's other case: claims the receiver's wait state at most once. */
proctype Canceller() {
  bit fired = 0;
  do
  :: fired == 0 ->
     atomic {
       if
       :: rparked == 1 && rwinner == 0 -> rwinner = 2; fired = 1
       :: else -> skip
       fi
     };
     if :: fired == 1 -> rwoken = 1 :: else -> skip fi
  :: finished >= NPARTIES - 1 -> break
  od;
  finished++
}

proctype Closer() {
  byte last, gh, gt, gst, st, m1, m2;
  bit grm, gsm, gclaimed, wake_r, wake_s, was;
  lock();
  atomic { last = tail; was = closed; closed = 1 };
  if
  :: was == 0 ->
     if :: squeued == 1 -> squeued = 0; sok = 0; wake_s = 1 :: else -> skip fi;
     smark[last & MASK] = 0;
     do
     :: rqueued == 1 && head != last ->
        atomic { st = stamp[head & MASK] };
        if
        :: st == head -> skip   /* a send in flight: wait it out */
        :: else -> give_to_receiver(m1); if :: m1 == 0 -> break :: else -> skip fi
        fi
     :: else -> break
     od;
     if
     :: rqueued == 1 ->
        rqueued = 0;
        atomic { if :: rwinner == 0 -> rwinner = 1; gclaimed = 1 :: else -> gclaimed = 0 fi };
        if :: gclaimed == 1 -> rgot = 0; wake_r = 1 :: else -> skip fi
     :: else -> skip
     fi;
     leave()
  :: else -> skip
  fi;
  unlock();
  wake_parked();
  finished++
}

init {
  byte i;
  for (i : 0 .. CAP - 1) { stamp[i] = i }
#ifdef NOCLOSE
  atomic { run Sender(); run Receiver(); run Canceller() };
#else
  atomic { run Sender(); run Receiver(); run Closer(); run Canceller() };
#endif
  finished == NPARTIES;
  for (i : 1 .. NVALUES) {
    assert(received[i] == sent_ok[i])
  }
  /* nothing left behind: the ring is drained */
  assert(head == tail)
}
