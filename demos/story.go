package demos

import (
	"context"

	"github.com/ocapgo/kernel-actors/actors"
	"github.com/ocapgo/kernel-actors/kernel"
)

// StoryKey is where a vat's result record carries its story: the lines
// saying what the vat did while it handled the message. Vat code runs
// inside the kernel and never narrates; its result is its only way out,
// so it hands the lines to the host, which tells them (Send).
const StoryKey = "story"

// Send sends method(args...) from the host to target through k, telling
// n "host → what" and then the story lines the result carries under
// StoryKey, indented. A rejection is returned as is, and told by the
// caller if the story expects it.
func Send(ctx context.Context, k *actors.Kernel, n Narrator, what string, target kernel.KRef, method string, args ...any) (any, error) {
	n.Say("host → %s", what)
	v, err := k.QueueMessage(ctx, target, method, args...)
	if err != nil {
		return nil, err
	}
	if r, ok := v.(map[string]any); ok {
		lines, _ := r[StoryKey].([]any)
		for _, l := range lines {
			n.Say("  %v", l)
		}
	}
	return v, nil
}
