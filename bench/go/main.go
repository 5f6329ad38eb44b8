// The Go counterparts of cogo's benchmark workloads (bench/runtime_bench.cpp and
// friends), by the same names, so that `make compare` measures Go and cogo side by side
// on one machine without anything outside this repository. Each workload prints one
// JSON line: {"name":..., "ns_per_op":..., "bytes_per_op":...}.
//
// usage: bench [NAME]   (all workloads, or only NAME)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

type line struct {
	Name       string   `json:"name"`
	NsPerOp    float64  `json:"ns_per_op"`
	BytesPerOp *float64 `json:"bytes_per_op,omitempty"`
}

func print(name string, ns float64, bytes *float64) {
	out, _ := json.Marshal(line{name, ns, bytes})
	os.Stdout.Write(append(out, '\n'))
}

// timed runs f under testing.Benchmark (about a second) and prints ns per op.
func timed(name string, f func(b *testing.B)) {
	r := testing.Benchmark(f)
	print(name, float64(r.T.Nanoseconds())/float64(r.N), nil)
}

// heap is the memory in use after two collections: what is really held.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

type ctxKey struct{}

var workloads = []struct {
	name string
	run  func(name string)
}{
	{"ctx_with_cancel", func(name string) {
		parent, stop := context.WithCancel(context.Background())
		defer stop()
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_, cancel := context.WithCancel(parent)
				cancel()
			}
		})
	}},
	{"ctx_with_timeout", func(name string) {
		parent, stop := context.WithCancel(context.Background())
		defer stop()
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_, cancel := context.WithTimeout(parent, time.Hour)
				cancel()
			}
		})
	}},
	{"ctx_with_value", func(name string) {
		parent, stop := context.WithCancel(context.Background())
		defer stop()
		var sink context.Context
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink = context.WithValue(parent, ctxKey{}, i)
			}
		})
		_ = sink
	}},
	{"ctx_value_depth32", func(name string) {
		type level int
		ctx := context.WithValue(context.Background(), ctxKey{}, "top")
		for i := 0; i < 32; i++ {
			ctx = context.WithValue(ctx, level(i), i)
		}
		var sink any
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink = ctx.Value(ctxKey{})
			}
		})
		_ = sink
	}},
	{"ctx_after_func", func(name string) {
		ctx, stop := context.WithCancel(context.Background())
		defer stop()
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				unregister := context.AfterFunc(ctx, func() {})
				unregister()
			}
		})
	}},
	{"ctx_cancel_fanout_100k", func(name string) {
		const n = 100000
		best := 0.0
		for round := 0; round < 5; round++ {
			root, cancel := context.WithCancel(context.Background())
			children := make([]context.Context, n)
			cancels := make([]context.CancelFunc, n)
			for i := range children {
				children[i], cancels[i] = context.WithCancel(root)
			}
			start := time.Now()
			cancel()
			for _, c := range children {
				<-c.Done()
			}
			ns := float64(time.Since(start).Nanoseconds()) / n
			if round == 0 || ns < best {
				best = ns
			}
			for _, c := range cancels {
				c()
			}
		}
		print(name, best, nil)
	}},
	{"ctx_cancel_chain_10k", func(name string) {
		const n = 10000
		best := 0.0
		for round := 0; round < 5; round++ {
			root, cancel := context.WithCancel(context.Background())
			leaf := context.Context(root)
			cancels := make([]context.CancelFunc, n)
			for i := 0; i < n; i++ {
				leaf, cancels[i] = context.WithCancel(leaf)
			}
			start := time.Now()
			cancel()
			<-leaf.Done()
			ns := float64(time.Since(start).Nanoseconds()) / n
			if round == 0 || ns < best {
				best = ns
			}
			for _, c := range cancels {
				c()
			}
		}
		print(name, best, nil)
	}},
	{"chan_pingpong", func(name string) {
		timed(name, func(b *testing.B) {
			there, back := make(chan int), make(chan int)
			go func() {
				for v := range there {
					back <- v
				}
				close(back)
			}()
			for i := 0; i < b.N; i++ {
				there <- i
				<-back
			}
			close(there)
			<-back
		})
	}},
	{"chan_buffered_spsc", func(name string) {
		timed(name, func(b *testing.B) {
			ch := make(chan int, 1024)
			done := make(chan struct{})
			go func() {
				for range ch {
				}
				close(done)
			}()
			for i := 0; i < b.N; i++ {
				ch <- i
			}
			close(ch)
			<-done
		})
	}},
	{"chan_mpmc_4x4", func(name string) {
		timed(name, func(b *testing.B) {
			ch := make(chan int, 1024)
			var producers, consumers sync.WaitGroup
			per := b.N/4 + 1
			for p := 0; p < 4; p++ {
				producers.Add(1)
				go func() {
					defer producers.Done()
					for i := 0; i < per; i++ {
						ch <- i
					}
				}()
			}
			for c := 0; c < 4; c++ {
				consumers.Add(1)
				go func() {
					defer consumers.Done()
					for range ch {
					}
				}()
			}
			producers.Wait()
			close(ch)
			consumers.Wait()
		})
	}},
	{"select_2_ready", func(name string) {
		timed(name, func(b *testing.B) {
			x, y := make(chan int, 1), make(chan int, 1)
			sum := 0
			for i := 0; i < b.N; i++ {
				y <- i
				select {
				case v := <-x:
					sum += v
				case v := <-y:
					sum += v
				}
			}
			_ = sum
		})
	}},
	{"timer_create_stop", func(name string) {
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				time.NewTimer(time.Hour).Stop()
			}
		})
	}},
	{"timer_pending_1m", func(name string) {
		const n = 1000000
		timers := make([]*time.Timer, n)
		before := heap()
		start := time.Now()
		for i := range timers {
			timers[i] = time.NewTimer(time.Hour)
		}
		ns := float64(time.Since(start).Nanoseconds()) / n
		bytes := float64(heap()-before) / n
		for _, t := range timers {
			t.Stop()
		}
		print(name, ns, &bytes)
	}},
	{"after_in_loop_1m", func(name string) {
		const n = 1000000
		ready := make(chan int, 1)
		before := heap()
		start := time.Now()
		for i := 0; i < n; i++ {
			ready <- i
			select {
			case <-time.After(5 * time.Second):
			case <-ready:
			}
		}
		ns := float64(time.Since(start).Nanoseconds()) / n
		held := float64(0)
		if after := heap(); after > before {
			held = float64(after-before) / n
		}
		print(name, ns, &held)
	}},
	{"spawn_join", func(name string) {
		timed(name, func(b *testing.B) {
			var wg sync.WaitGroup
			wg.Add(b.N)
			for i := 0; i < b.N; i++ {
				go wg.Done()
			}
			wg.Wait()
		})
	}},
	{"parked_tasks_1m", func(name string) {
		const n = 1000000
		block := make(chan int)
		var started, ended sync.WaitGroup
		started.Add(n)
		ended.Add(n)
		before := heap()
		start := time.Now()
		for i := 0; i < n; i++ {
			go func() {
				started.Done()
				<-block
				ended.Done()
			}()
		}
		started.Wait()
		ns := float64(time.Since(start).Nanoseconds()) / n
		bytes := float64(heap()-before) / n
		close(block)
		ended.Wait()
		print(name, ns, &bytes)
	}},
	{"errgroup_fanout_10k", func(name string) {
		// x/sync/errgroup's WithContext and Go, written out: the module builds offline.
		parent, stop := context.WithCancel(context.Background())
		defer stop()
		boom := errors.New("boom")
		timed(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ctx, cancel := context.WithCancelCause(parent)
				var wg sync.WaitGroup
				var once sync.Once
				var first error
				for j := 0; j < 10000; j++ {
					wg.Add(1)
					go func(j int) {
						defer wg.Done()
						var err error
						if ctx.Err() == nil && j == 9999 {
							err = boom
						}
						if err != nil {
							once.Do(func() { first = err; cancel(err) })
						}
					}(j)
				}
				wg.Wait()
				cancel(first)
			}
		})
	}},
	{"tcp_echo_1conn", func(name string) { echo(name, 1) }},
	{"tcp_echo_50conn", func(name string) { echo(name, 50) }},
}

// echo times 64-byte round trips over `conns` loopback connections at once, client and
// server in this process (net sets TCP_NODELAY): total time over total round trips.
func echo(name string, conns int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 64)
				for {
					if _, err := io.ReadFull(c, buf); err != nil {
						return
					}
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}(c)
		}
	}()
	clients := make([]net.Conn, conns)
	for i := range clients {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			panic(err)
		}
		defer c.Close()
		clients[i] = c
	}
	timed(name, func(b *testing.B) {
		per := (b.N + conns - 1) / conns
		var wg sync.WaitGroup
		for _, c := range clients {
			wg.Add(1)
			go func(c net.Conn) {
				defer wg.Done()
				msg := make([]byte, 64)
				got := make([]byte, 64)
				for i := 0; i < per; i++ {
					if _, err := c.Write(msg); err != nil {
						panic(err)
					}
					if _, err := io.ReadFull(c, got); err != nil {
						panic(err)
					}
				}
			}(c)
		}
		wg.Wait() // per*conns round trips: b.N, rounded up to whole rounds
	})
}

func main() {
	only := ""
	if len(os.Args) > 1 {
		only = os.Args[1]
	}
	for _, w := range workloads {
		if only == "" || only == w.name {
			w.run(w.name)
		}
	}
}
