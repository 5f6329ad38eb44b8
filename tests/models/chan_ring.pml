/* The buffered channel's protocol (include/cogo/detail/chan_ring.hpp, chan_state.hpp):
 * the lock-free ring with per-slot stamps, the marks that parked parties leave on the
 * slot they wait for, settle() under the lock, and close.
 *
 * One sender sends NVALUES values (each: the lock-free attempt, then the locked poll that
 * marks, then parking); one receiver receives until the channel is closed and drained,
 * each receive being a two-case select whose other case (a canceller, like ctx.done())
 * may claim it once, so a stale waiter can sit in the list; one closer closes at any
 * moment; or (with -DNOCLOSE) nobody closes and the receiver stops after NVALUES values,
 * so that a lost wake-up cannot be rescued by close waking everyone.
 *
 * With -DTRY a further party makes NTRY (default 1) non-blocking operations, each one of
 * (a free choice, every one is explored; -DTRY_RECV / -DTRY_SEND: the receives / the
 * sends only):
 *   try_recv()               recv_now(try_locked): try_pop, and on `locked` the lock and
 *                            recv_ring_locked without marking;
 *   select(recv, default)    the select's quick pass (recv_now without the lock), then
 *                            under the lock recv_ring_locked(mark) twice, then default
 *                            and unpoll (leave_locked), as select_awaiter.hpp does;
 *   try_send(v)              send_now(try_locked), as try_recv;
 *   select(send(v), default) as select(recv, default).
 * Its values are NVALUES+1, NVALUES+2, ... (each receiver checks the order per sender).
 * With -DNOCLOSE it only sends (a receive of it could take the value the receiver waits
 * for, and nobody would wake the receiver), and what it sent may be left in the ring.
 *
 * The ring operations are shared inlines (try_pop, try_push, recv_ring_locked,
 * send_ring_locked) that every party uses, following the C++ (the locked polls settle()
 * first on a reserved slot). -DOLD_TRY models the try operations as they were before
 * that (a reserved slot reported empty or full); ctest's model_chan_ring_old_try_is_caught
 * checks that spin finds the violation then.
 * -DNOCANCEL leaves the canceller out.
 *
 * Checked (ctest model_chan_ring_*), for CAP 1 and 2: with and without the closer, and
 * with TRY and NOCLOSE. TRY with the closer does not fit the 2 GB exhaustive search of
 * run.cmake (over 34 million states at NTRY 1); it is not registered.
 *   - no lost wake-up: every process ends (a parked party never woken is an invalid end
 *     state);
 *   - no value lost or duplicated: each value whose send returned true is received
 *     exactly once (or, NOCLOSE with TRY, is still in the ring at the end), those whose
 *     send returned false never, and each sender's values in the order sent;
 *   - a waiter is claimed only with a value (or "closed") to give it;
 *   - with TRY, Go's non-blocking semantics: a try_recv() that reports "not ready", or a
 *     select(recv, default) that takes default, does so at a moment when no sender is
 *     parked (Go: a parked sender means a full buffer, so a receive can proceed); a
 *     try_send() that reports "would block", or a select(send, default) that takes
 *     default, at a moment when no claimable receiver is parked. The moment is the load
 *     that decided (tail_ for a receive that found the ring empty, head_ for a send that
 *     found it full); the model reads the parked lists in the same step, as a ghost.
 *
 * The pre-7cac4a2 behaviour, for showing what these checks find in it:
 *   -DOLD_RING_TRY  try_pop reports `blocked` on an empty ring whose slot is FREE|kSendMark,
 *                   try_push on a full ring whose slot is FULL|kRecvMark (not `locked`);
 *   -DOLD_RING_POLL recv_ring_locked / send_ring_locked do not settle() first on those
 *                   slots (they fail, or mark and fail);
 *   -DOLD_TRY       both. With TRY, CAP=1, each of them violates the non-blocking assertion (a
 *                   lock-free receive that emptied a slot marked by a parked sender, its
 *                   settle() pending, and the try party's receive reports "not ready";
 *                   mirrored for sends: -DNOCLOSE finds that one). The model finds no
 *                   lost wake-up or stranded value there: that (chan_pending_settle_test's
 *                   self-selects) needs a select that sends and receives on one channel,
 *                   which this model has not. CAP=2 needs a third value to fill the ring.
 *
 * A step of the model is one atomic instruction of the C++ code: a load, a store, a
 * compare-exchange or a fetch_add of one word. A slot's stamp and its two marks are one
 * word, as are tail_ and kClosed. Memory orders are not modelled (sequential consistency).
 * Run: spin -a -DCAP=2 [-DTRY] [-DNOCLOSE] [-DOLD_TRY] chan_ring.pml
 *      cc -O2 -DSAFETY -o pan pan.c && ./pan
 */

#ifndef CAP
#define CAP 2
#endif
#if defined(TRY_RECV) || defined(TRY_SEND)
#define TRY
#endif
#define NVALUES 2
#ifndef NTRY
#define NTRY 1
#endif
#if CAP == 1
#define LAP 2
#else
#define LAP 4
#endif
#define MASK (LAP - 1)
#ifdef NOCLOSE
#define NBASE 3
#else
#define NBASE 4
#endif
#ifdef NOCANCEL
#define NB2 (NBASE - 1)
#else
#define NB2 NBASE
#endif
#ifdef TRY
#define NPARTIES (NB2 + 1)
#define NIDS (NVALUES + NTRY)
#else
#define NPARTIES NB2
#define NIDS NVALUES
#endif
#ifdef OLD_TRY
#define OLD_RING_TRY
#define OLD_RING_POLL
#endif
#define LAST (CAP - 1)
#define NEXT(p) (((p) & MASK) == LAST -> ((p) | MASK) + 1 : (p) + 1)

/* RingOp */
#define R_DONE 0
#define R_DONE_SETTLE 1
#define R_CLOSED 2
#define R_BLOCKED 3
#define R_LOCKED 4

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
bit sent_ok[NIDS + 1];
byte received[NIDS + 1];
byte finished = 0;

#define lock() atomic { mu == 0 -> mu = 1 }
#define unlock() mu = 0

/* Ghosts for the non-blocking checks, read in the step of the deciding load. */
#define SENDER_PARKED (squeued == 1)
#define RECEIVER_CLAIMABLE (rqueued == 1 && rwinner == 0)

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

/* settle_unlocked() */
inline settle_unlocked() {
  lock(); settle(); unlock(); wake_parked()
}

/* leave_locked(): marks nobody needs any more (a load of the position, then a
 * compare-exchange loop that clears the bit: one step once it succeeds). */
inline leave() {
  if :: rqueued == 0 -> gh = head; rmark[gh & MASK] = 0 :: else -> skip fi;
  if :: squeued == 0 -> gt = tail; smark[gt & MASK] = 0 :: else -> skip fi
}

/* The locals the inlines below use; each party declares them. */
#define RING_LOCALS \
  byte h, t, hh, st, old, gh, gt, gst, m1, m2, lr; \
  bit rm, sm, grm, gsm, gclaimed, wake_r, wake_s, tc, isclosed, seen

/* The scratch locals of the inlines back to 0 (they are dead here): fewer states. */
#define RESET_LOCALS \
  d_step { h = 0; t = 0; hh = 0; st = 0; old = 0; gh = 0; gt = 0; gst = 0; m1 = 0; m2 = 0; \
           lr = 0; rm = 0; sm = 0; grm = 0; gsm = 0; gclaimed = 0; tc = 0; isclosed = 0 }

/* Ring::try_pop(out) -> r. */
inline try_pop(out, r) {
  h = head;
  do
  :: atomic { st = stamp[h & MASK]; rm = rmark[h & MASK]; sm = smark[h & MASK] };
     if
     :: st == h + 1 && rm == 0 ->
        atomic { if :: head == h -> head = NEXT(h); old = 1 :: else -> h = head; old = 0 fi };
        if
        :: old == 1 ->
           out = val[h & MASK]; val[h & MASK] = 0;
           atomic { old = smark[h & MASK]; stamp[h & MASK] = stamp[h & MASK] + LAP - 1 };
           if :: old == 1 -> r = R_DONE_SETTLE :: else -> r = R_DONE fi;
           break
        :: else -> skip   /* h was reloaded */
        fi
     :: st == h + 1 && rm == 1 -> r = R_LOCKED; break   /* owed to parked receivers */
     :: st == h ->
        atomic { t = tail; isclosed = closed; seen = SENDER_PARKED };
        if
        :: t == h && isclosed == 1 -> r = R_CLOSED; break
#ifdef OLD_RING_TRY
        :: t == h && isclosed == 0 -> r = R_BLOCKED; break
#else
        :: t == h && isclosed == 0 && sm == 1 -> r = R_LOCKED; break
        :: t == h && isclosed == 0 && sm == 0 -> r = R_BLOCKED; break
#endif
        :: else -> h = head   /* a send in flight */
        fi
     :: else -> h = head
     fi
  od
}

/* Ring::try_push(v) -> r. */
inline try_push(v, r) {
  atomic { t = tail; tc = closed };
  do
  :: tc == 1 -> r = R_CLOSED; break
  :: else ->
     atomic { st = stamp[t & MASK]; rm = rmark[t & MASK]; sm = smark[t & MASK] };
     if
     :: st == t && sm == 0 ->
        atomic {
          if
          :: tail == t && closed == 0 -> tail = NEXT(t); old = 1
          :: else -> t = tail; tc = closed; old = 0
          fi
        };
        if
        :: old == 1 ->
           val[t & MASK] = v;
           atomic { old = rmark[t & MASK]; stamp[t & MASK] = stamp[t & MASK] + 1 };
           if :: old == 1 -> r = R_DONE_SETTLE :: else -> r = R_DONE fi;
           break
        :: else -> skip
        fi
     :: st == t && sm == 1 -> r = R_LOCKED; break   /* owed to parked senders */
     :: st + LAP == t + 1 ->
        atomic { hh = head; seen = RECEIVER_CLAIMABLE };
        if
#ifdef OLD_RING_TRY
        :: hh + LAP == t -> r = R_BLOCKED; break   /* full */
#else
        :: hh + LAP == t && rm == 1 -> r = R_LOCKED; break
        :: hh + LAP == t && rm == 0 -> r = R_BLOCKED; break   /* full */
#endif
        :: else -> atomic { t = tail; tc = closed }   /* a receiver is leaving the slot */
        fi
     :: else -> atomic { t = tail; tc = closed }   /* another sender took t, or in flight */
     fi
  od
}

/* ChanState::recv_ring_locked(out, mark) -> r (1: a value, or out = 0: closed and
 * drained; 0: it must wait). With the lock held. */
inline recv_ring_locked(out, mark, r) {
  do
  :: h = head;
     atomic { st = stamp[h & MASK]; rm = rmark[h & MASK]; sm = smark[h & MASK] };
     if
     :: st == h + 1 && rm == 1 -> settle()   /* parked receivers come first */
     :: st == h + 1 && rm == 0 ->
        atomic { if :: head == h -> head = NEXT(h); old = 1 :: else -> old = 0 fi };
        if
        :: old == 1 ->
           out = val[h & MASK]; val[h & MASK] = 0;
           atomic { old = smark[h & MASK]; stamp[h & MASK] = stamp[h & MASK] + LAP - 1 };
           if :: old == 1 -> settle() :: else -> skip fi;
           r = 1; break
        :: else -> skip
        fi
     :: st == h ->
        atomic { t = tail; isclosed = closed; seen = SENDER_PARKED };
        if
        :: t == h && isclosed == 1 -> out = 0; r = 1; break
#ifndef OLD_RING_POLL
        :: t == h && isclosed == 0 && sm == 1 -> settle()   /* a parked sender's value */
        :: t == h && isclosed == 0 && sm == 0 && (mark == 0 || rm == 1) -> r = 0; break
        :: t == h && isclosed == 0 && sm == 0 && mark == 1 && rm == 0 ->
#else
        :: t == h && isclosed == 0 && (mark == 0 || rm == 1) -> r = 0; break
        :: t == h && isclosed == 0 && mark == 1 && rm == 0 ->
#endif
           atomic {
             if
             :: stamp[h & MASK] == st && rmark[h & MASK] == 0 && smark[h & MASK] == sm ->
                rmark[h & MASK] = 1; old = 1
             :: else -> old = 0
             fi
           }
           if :: old == 1 -> r = 0; break :: else -> skip fi   /* a sender published */
        :: else -> skip   /* a send in flight: spin */
        fi
     :: else -> skip   /* a receiver still leaving */
     fi
  od
}

/* ChanState::send_ring_locked(v, mark) -> r (1: done, with ok 0 if closed; 0: it must
 * wait). With the lock held. */
inline send_ring_locked(v, mark, r, ok) {
  do
  :: atomic { t = tail; tc = closed };
     if
     :: tc == 1 -> ok = 0; r = 1; break
     :: else ->
        atomic { st = stamp[t & MASK]; rm = rmark[t & MASK]; sm = smark[t & MASK] };
        if
        :: st == t && sm == 1 -> settle()   /* parked senders come first */
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
              ok = 1; r = 1; break
           :: else -> skip
           fi
        :: st + LAP == t + 1 ->
           atomic { hh = head; seen = RECEIVER_CLAIMABLE };
           if
#ifndef OLD_RING_POLL
           :: hh + LAP == t && rm == 1 -> settle()   /* the value is owed to a receiver */
           :: hh + LAP == t && rm == 0 && (mark == 0 || sm == 1) -> r = 0; break
           :: hh + LAP == t && rm == 0 && mark == 1 && sm == 0 ->
#else
           :: hh + LAP == t && (mark == 0 || sm == 1) -> r = 0; break
           :: hh + LAP == t && mark == 1 && sm == 0 ->
#endif
              atomic {
                if
                :: stamp[t & MASK] == st && rmark[t & MASK] == rm && smark[t & MASK] == 0 ->
                   smark[t & MASK] = 1; old = 1
                :: else -> old = 0
                fi
              }
              if :: old == 1 -> r = 0; break :: else -> skip fi   /* a receiver emptied it */
           :: else -> skip   /* a receiver is leaving the slot */
           fi
        :: else -> skip
        fi
     fi
  od
}

proctype Sender() {
  byte v = 1, r;
  bit result;
  RING_LOCALS;
  do
  :: v > NVALUES -> break
  :: else ->
     /* co_await ch.send(v): await_ready = send_now(try_locked = false) */
     try_push(v, r);
     if
     :: r == R_DONE -> result = 1
     :: r == R_DONE_SETTLE -> result = 1; settle_unlocked()
     :: r == R_CLOSED -> result = 0
     :: r == R_BLOCKED || r == R_LOCKED ->
        /* await_suspend: send_locked(mark), then enqueue */
        lock();
        send_ring_locked(v, 1, lr, result);
        if
        :: lr == 0 ->
           sval = v; sok = 0; swoken = 0; squeued = 1;   /* enqueue */
           unlock(); wake_parked(); RESET_LOCALS;
           swoken == 1;                                  /* parked */
           result = sok
        :: else -> unlock(); wake_parked()
        fi
     fi;
     sent_ok[v] = result;
     v++; r = 0; RESET_LOCALS
  od;
  finished++
}

/* Each receiver sees each sender's values in the order sent. */
inline note_received(x) {
  if
  :: x <= NVALUES -> assert(x > last); last = x
  :: else -> assert(x > lastt); lastt = x
  fi;
  received[x]++
}

proctype Receiver() {
  byte got, last = 0, lastt = 0, r;
  RING_LOCALS;
  do
  :: got = 0;
     atomic { rparked = 0; rwinner = 0 };   /* a fresh WaitState */
     /* try_fast: recv_now(try_locked = false) */
     try_pop(got, r);
     if
     :: r == R_DONE -> skip
     :: r == R_DONE_SETTLE -> settle_unlocked()
     :: r == R_CLOSED -> got = 0
     :: r == R_BLOCKED || r == R_LOCKED ->
        /* recv_locked(mark), then enqueue */
        lock();
        recv_ring_locked(got, 1, lr);
        if
        :: lr == 0 ->
           rgot = 0; rwoken = 0; rqueued = 1; rparked = 1;   /* enqueue */
           unlock(); wake_parked(); RESET_LOCALS;
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
     fi;
     r = 0; RESET_LOCALS;
     if
     :: got == 255 -> skip
     :: got == 0 -> break   /* closed and drained */
     :: else ->
        note_received(got);
#ifdef NOCLOSE
        if :: got == NVALUES -> break :: else -> skip fi
#endif
     fi
  od;
  finished++
}

#ifdef TRY
/* Non-blocking operations: try_recv, try_send, and selects with a default case. */
proctype TryParty() {
  byte n = 0, op, got, last = 0, lastt = 0, v = NVALUES + 1, r;
  bit ok;
  RING_LOCALS;
  do
  :: n == NTRY -> break
  :: else ->
     if
#if !defined(NOCLOSE) && !defined(TRY_SEND)
     :: op = 0   /* try_recv() */
     :: op = 1   /* select(ch.recv(), default_case) */
#endif
#ifndef TRY_RECV
     :: op = 2   /* try_send(v) */
     :: op = 3   /* select(ch.send(v), default_case) */
#endif
     fi;
     got = 0; ok = 0;
     if
     :: op <= 1 ->
        try_pop(got, r);
        if
        :: r == R_DONE -> skip
        :: r == R_DONE_SETTLE -> settle_unlocked()
        :: r == R_CLOSED -> got = 0
        :: r == R_BLOCKED && op == 0 ->
           assert(!seen)   /* not_ready while a sender is parked */
        :: (r == R_LOCKED && op == 0) ->
           /* recv_with_lock: recv_locked without marking */
           lock();
           recv_ring_locked(got, 0, lr);
           unlock(); wake_parked();
           if :: lr == 0 -> assert(!seen) :: else -> skip fi
        :: (r == R_BLOCKED || r == R_LOCKED) && op == 1 ->
           /* the locked snapshot: two polls that mark, then default and unpoll */
           lock();
           recv_ring_locked(got, 1, lr);
           if :: lr == 0 -> recv_ring_locked(got, 1, lr) :: else -> skip fi;
           if
           :: lr == 0 ->
              assert(!seen);   /* default while a sender is parked */
              leave()
           :: else -> skip
           fi;
           unlock(); wake_parked()
        fi;
        if :: got != 0 -> note_received(got) :: else -> skip fi
     :: else ->
        try_push(v, r);
        if
        :: r == R_DONE -> ok = 1
        :: r == R_DONE_SETTLE -> ok = 1; settle_unlocked()
        :: r == R_CLOSED -> ok = 0
        :: r == R_BLOCKED && op == 2 ->
           assert(!seen)   /* would block while a receiver is parked */
        :: r == R_LOCKED && op == 2 ->
           lock();
           send_ring_locked(v, 0, lr, ok);
           unlock(); wake_parked();
           if :: lr == 0 -> assert(!seen) :: else -> skip fi
        :: (r == R_BLOCKED || r == R_LOCKED) && op == 3 ->
           lock();
           send_ring_locked(v, 1, lr, ok);
           if :: lr == 0 -> send_ring_locked(v, 1, lr, ok) :: else -> skip fi;
           if
           :: lr == 0 ->
              assert(!seen);   /* default while a receiver is parked */
              leave()
           :: else -> skip
           fi;
           unlock(); wake_parked()
        fi;
        if :: ok == 1 -> sent_ok[v] = 1; v++ :: else -> skip fi
     fi;
     n++; r = 0; seen = 0; got = 0; ok = 0; op = 0; RESET_LOCALS
  od;
  finished++
}
#endif

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
  byte i, p;
  byte inring[NIDS + 1];
  for (i : 0 .. CAP - 1) { stamp[i] = i }
  atomic {
    run Sender(); run Receiver();
#ifndef NOCANCEL
    run Canceller();
#endif
#ifndef NOCLOSE
    run Closer();
#endif
#ifdef TRY
    run TryParty();
#endif
  };
  finished == NPARTIES;
  /* what is left in the ring (every claimed position is published by now) */
  p = head;
  do
  :: p == tail -> break
  :: else -> assert(val[p & MASK] != 0); inring[val[p & MASK]]++; p = NEXT(p)
  od;
  for (i : 1 .. NIDS) {
    assert(received[i] + inring[i] == sent_ok[i])
  }
  /* nothing left behind: the ring is drained, but for the try party's values when the
   * receiver stopped after the sender's last (NOCLOSE) */
#if defined(NOCLOSE) && defined(TRY)
  for (i : 1 .. NVALUES) { assert(inring[i] == 0) }
#else
  assert(head == tail)
#endif
}
