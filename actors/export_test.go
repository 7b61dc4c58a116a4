package actors

import (
	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// What the package's external tests and benchmarks may set that a host
// may not: they live in a _test file, so only the test binary has them.

// TapFrames shows out every frame the kernel sends and in every frame it
// is handed, on the kernel actor's goroutine; either may be nil. The
// frames still go where they go.
func TapFrames(rc *RemoteConfig, out func(to *actor.PID, f *wrapperspb.BytesValue), in func(f *wrapperspb.BytesValue)) {
	rc.tapOut, rc.tapIn = out, in
}

// SendAcksAlone makes the kernel send each ack that moved at once, alone
// if no message carries it, as it did before acks were held: three
// frames a round trip, to compare with two.
func SendAcksAlone(rc *RemoteConfig) { rc.acksAlone = true }

// DefaultDispatcher runs the kernel actor on protoactor-go's default
// dispatcher, not a goroutine of its own, to compare the two.
func DefaultDispatcher(rc *RemoteConfig) { rc.defaultDispatcher = true }
