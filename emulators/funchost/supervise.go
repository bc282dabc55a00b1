package funchost

import (
	"bytes"
	"context"
	"sync"
	"time"
)

// supervise restarts the handler whenever it exits, until close.
func (p *handlerProc) supervise(exited <-chan error) {
	defer close(p.done)
	delay := 500 * time.Millisecond
	for {
		started := time.Now()
		var err error
		select {
		case err = <-exited:
		case <-p.stop:
			<-exited
			return
		}
		if p.isStopping() {
			return
		}
		if time.Since(started) > time.Minute {
			delay = 500 * time.Millisecond
		}
		p.con.printf("Custom handler exited (%v); restarting in %s", exitText(err), delay)
		ready := make(chan struct{})
		p.mu.Lock()
		p.ready = ready
		p.mu.Unlock()
		if exited = p.restart(delay, ready); exited == nil {
			return
		}
		delay = min(2*delay, restartDelayMax)
	}
}

// restart waits delay, spawns the handler again and starts polling it.
// It returns nil when the host is stopping.
func (p *handlerProc) restart(delay time.Duration, ready chan struct{}) <-chan error {
	for {
		select {
		case <-p.stop:
			return nil
		case <-time.After(delay):
		}
		exited, err := p.spawn()
		if err != nil {
			p.con.printf("%v; retrying in %s", err, delay)
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			defer cancel()
			_ = p.pollReady(ctx, ready) // ends when ready or when the process is gone
		}()
		go func() {
			select {
			case <-p.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		return p.cancelOnExit(exited, cancel)
	}
}

// cancelOnExit stops readiness polling when the process exits and passes
// the exit on.
func (p *handlerProc) cancelOnExit(exited <-chan error, cancel context.CancelFunc) <-chan error {
	out := make(chan error, 1)
	go func() {
		err := <-exited
		cancel()
		out <- err
	}()
	return out
}

func (p *handlerProc) isStopping() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopping
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// lineWriter sends complete lines of handler output to the console, all
// the lines of one write in one console write. It holds at most
// maxOutputLine of a line whose end has not come: beyond that, what came
// is printed as a line.
type lineWriter struct {
	con    *console
	prefix string
	mu     sync.Mutex
	buf    []byte // the start of a line whose end has not come yet
}

const maxOutputLine = 64 << 10

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	text := b
	if len(w.buf) > 0 {
		w.buf = append(w.buf, b...)
		text = w.buf
	}
	end := bytes.LastIndexByte(text, '\n') + 1
	if end == 0 && len(text) >= maxOutputLine {
		end = len(text)
	}
	w.con.lines(w.prefix, text[:end])
	w.buf = append(w.buf[:0], text[end:]...)
	return len(b), nil
}
