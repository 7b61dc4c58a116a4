// Package probe is never built: it is the kernel lint's test input
// (kernel/lint_test.go, TestLintFindsEveryBannedConstruct). Each line that
// breaks a rule ends in "want:" and the rules it breaks, one finding
// each; the lint must report exactly those.
package probe

import (
	crand "crypto/rand" // want: random
	"fmt"
	"github.com/rs/zerolog"
	"hash/maphash" // want: random
	"log"
	mrand "math/rand"    // want: random
	rand2 "math/rand/v2" // want: random
	"sync"               // want: sync
	"sync/atomic"        // want: sync
	. "time"             // want: clock
	_ "time"             // (a blank import reads nothing)
	clock "time"         // (a renamed time: its clock reads are found below)
	tm "time"            // (imported twice, under another name)

	"github.com/asynkron/protoactor-go/actor"                  // want: import
	"github.com/ocapgo/kernel-actors/actors"                   // want: import
	supervisor "github.com/ocapgo/kernel-actors/supervisor"    // want: import
	"github.com/ocapgo/kernel-actors/supervisor/internal/nope" // want: import
)

var (
	_ = crand.Reader
	_ = maphash.MakeSeed
	_ = mrand.Intn
	_ = rand2.IntN
	_ = actor.NewActorSystem
	_ = actors.Start
	_ = supervisor.Pump
	_ = nope.X
)

type state struct {
	mu    sync.Mutex    // (the import is the finding, not each use)
	n     atomic.Int64  // (likewise)
	wake  chan struct{} // want: chan
	timer *clock.Timer  // want: clock
	tick  *tm.Ticker    // want: clock
}

// pipe is a named channel type.
type pipe <-chan int // want: chan

func goroutines() {
	go func() {}()       // want: go
	go fmt.Println("hi") // want: go
}

func channels(out chan<- int) { // want: chan
	c := make(chan int, 1) // want: chan
	c <- 1                 // want: chan
	v := <-c               // want: chan
	v, ok := <-c           // want: chan
	<-c                    // want: chan
	_ = (chan int)(nil)    // want: chan
	_, _ = v, ok
	select { // want: select
	case x := <-c:
		_ = x
	case out <- 2:
	case <-c:
	default:
	}
	select {} // want: select
}

func clocks() {
	_ = clock.Now()               // want: clock
	_ = clock.Since(clock.Time{}) // want: clock
	_ = clock.Until(clock.Time{}) // want: clock
	clock.Sleep(clock.Second)     // want: clock
	_ = clock.After(clock.Second) // want: clock
	clock.AfterFunc(1, func() {}) // want: clock
	_ = clock.Tick(clock.Second)  // want: clock
	_ = clock.NewTimer(1)         // want: clock
	_ = clock.NewTicker(1)        // want: clock
	_ = tm.Now()                  // want: clock
	now := clock.Now              // want: clock
	stop := (*clock.Timer).Stop   // want: clock
	_ = Now()                     // (through the dot import, reported at the import)
	_, _ = now, stop
}

// bugf is the one function that may panic.
func bugf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

type kernel struct{ log zerolog.Logger }

// bugf as a method is not the kernel's bugf.
func (kernel) bugf(msg string) {
	panic(msg) // want: panic
}

func panics(k kernel, err error) {
	panic("a bare string") // want: panic
	panic(err)             // want: panic
	defer func() {
		panic(fmt.Errorf("in a closure: %w", err)) // want: panic
	}()
	log.Panicf("through log: %v", err)   // want: panic
	k.log.Panic().Msg("through zerolog") // want: panic
	bugf("this is fine: %v", err)
}
