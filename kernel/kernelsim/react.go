package kernelsim

import (
	"math/rand/v2"
	"strings"
)

// A reaction says what the receiver of a message does with it. The sender
// chooses it (the generator does, for the sender) and the model keeps it
// with the message, so what happens at a delivery depends only on the
// program. A reaction is a string: its first letter is the action, and an
// action that sends onward takes the rest of the string as the onward
// message's reaction.
//
// Leaves settle the message's result at once, except 'w':
//
//	u  fulfil with undefined          s  fulfil with a string
//	o  fulfil with a new object       d  fulfil with a new durable object
//	a  fulfil with the first object argument (else a new object)
//	x  fulfil with a record holding an object and a new promise
//	r  reject with an error           R  reject with a record holding an object
//	w  keep the result waiting: a later resolve step (or the end) settles it
//
// Onward actions send to the message's first argument (else to a
// reference the receiver holds, picked by the message's id):
//
//	f<child>  forward: settle the result as the onward result settles
//	c<child>  send onward, then fulfil the result with a new object
//	p<child>  send onward, pipeline a second message on the onward result,
//	          and fulfil the result with undefined
const leaves = "usodaxrRw"

// maxReactDepth bounds how far one message's reactions reach.
const maxReactDepth = 3

// genReact makes a reaction at depth.
func genReact(r *rand.Rand, depth int) string {
	if depth < maxReactDepth {
		switch x := r.IntN(100); {
		case x < 14:
			return "f" + genReact(r, depth+1)
		case x < 20:
			return "c" + genReact(r, depth+1)
		case x < 24:
			return "p" + genReact(r, depth+1)
		}
	}
	// Leaves, weighted toward results that can be pipelined on (o, d, a)
	// and toward keeping promises waiting (w), where E-order is tested.
	const weighted = "uusooooodddaaaaxrrRwwww"
	return string(weighted[r.IntN(len(weighted))])
}

// isOnward reports whether a reaction sends onward.
func isOnward(react string) bool { return react != "" && strings.IndexByte("fcp", react[0]) >= 0 }
