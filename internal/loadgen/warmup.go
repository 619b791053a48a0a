package loadgen

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// warmupBatch is the number of sets written before their replies are read.
const warmupBatch = 64

// warmup sets every key once, the key space split among the workers, and
// returns how many sets were answered with something other than STORED.
func warmup(ctx context.Context, workers []*worker, keys int) (int64, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		wrong int64
		first error
	)
	n := len(workers)
	for i, w := range workers {
		lo, hi := uint32(keys*i/n), uint32(keys*(i+1)/n)
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			bad, err := w.warmup(ctx, lo, hi)
			mu.Lock()
			defer mu.Unlock()
			wrong += bad
			if err != nil && first == nil {
				first = err
			}
		}()
	}
	wg.Wait()
	return wrong, first
}

// warmup sets keys lo to hi-1 on the worker's connection, warmupBatch at a
// time.
func (w *worker) warmup(ctx context.Context, lo, hi uint32) (int64, error) {
	var wrong int64
	for k := lo; k < hi; {
		if err := ctx.Err(); err != nil {
			return wrong, fmt.Errorf("loadgen: warm-up: %w", err)
		}
		_ = w.conn.SetDeadline(time.Now().Add(w.opts.Timeout))
		n := min(warmupBatch, hi-k)
		for j := uint32(0); j < n; j++ {
			var h int
			w.buf, h = appendSetHead(w.buf[:0], w.ks, k+j)
			_, _ = w.w.Write(w.buf)
			_, _ = w.w.Write(w.ks.tail(k+j, h))
			_, _ = w.w.WriteString("\r\n")
		}
		if err := w.w.Flush(); err != nil {
			return wrong, fmt.Errorf("loadgen: warm-up: %w", err)
		}
		for j := uint32(0); j < n; j++ {
			problem, err := readSetReply(w.r)
			if err != nil {
				return wrong, fmt.Errorf("loadgen: warm-up: %w", err)
			}
			if problem != problemNone {
				wrong++
			}
		}
		k += n
	}
	return wrong, nil
}
