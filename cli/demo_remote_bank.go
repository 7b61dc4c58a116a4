package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ocapgo/kernel-actors/kernel"
	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// bankVat is demo remote's bank: deposit(who, id, amount) adds amount to
// the balance and answers the new balance; statement() answers what it
// holds. Everything is in baggage, written in the crank that takes the
// deposit, so it is exactly what committed cranks did: a kernel killed
// and resumed has every deposit it acknowledged and none it did not. A
// deposit (who, id) taken twice is kept as evidence, not hidden.
func bankVat(vc *vat.Context) (any, error) {
	// A missing key reads as 0: a new bank.
	getInt := func(key string) int64 {
		v, _ := vc.Baggage.Get(key)
		n, _ := marshal.Int(v)
		return n
	}
	return vat.Far("bank", vat.Methods{
		"deposit": func(c *vat.Call) (any, error) {
			if len(c.Args) != 3 {
				return nil, fmt.Errorf("deposit: want who, id, amount")
			}
			who, _ := c.Arg(0).(string)
			id, err := marshal.Int(c.Arg(1))
			if err != nil {
				return nil, fmt.Errorf("deposit: id: %w", err)
			}
			amount, err := marshal.Int(c.Arg(2))
			if err != nil {
				return nil, fmt.Errorf("deposit: amount: %w", err)
			}
			// One key a deposit: the statement lists them, and a second delivery of
			// the same deposit finds its key already there.
			key := fmt.Sprintf("seen.%s.%d", who, id)
			if vc.Baggage.Has(key) {
				if err := vc.Baggage.Set(fmt.Sprintf("dup.%s.%d", who, id), true); err != nil {
					return nil, err
				}
			}
			balance := getInt("balance") + amount
			// All written in this crank: they commit with it or not at all.
			for k, v := range map[string]any{key: amount, "balance": balance, "deposits": getInt("deposits") + 1} {
				if err := vc.Baggage.Set(k, v); err != nil {
					return nil, err
				}
			}
			return balance, nil
		},
		"statement": func(c *vat.Call) (any, error) {
			byWho := map[string]any{}
			var dups []any
			keys := vc.Baggage.Keys()
			slices.Sort(keys)
			for _, k := range keys {
				if rest, ok := strings.CutPrefix(k, "seen."); ok {
					// Keys are seen.WHO.ID; a name with a dot keeps it (the id has none).
					who := rest[:strings.LastIndex(rest, ".")]
					ids, _ := byWho[who].([]any)
					byWho[who] = append(ids, rest[len(who)+1:])
				}
				if rest, ok := strings.CutPrefix(k, "dup."); ok {
					dups = append(dups, rest)
				}
			}
			if dups == nil {
				dups = []any{}
			}
			return map[string]any{"balance": getInt("balance"), "deposits": getInt("deposits"), "ids": byWho, "duplicates": dups}, nil
		},
	}), nil
}

// bankStatement is the bank's statement() as the parent reads it.
type bankStatement struct {
	Balance    int64               `json:"balance"`
	Deposits   int64               `json:"deposits"`
	IDs        map[string][]string `json:"ids"`
	Duplicates []string            `json:"duplicates"`
}

// demoOp is the kernel role's demo requests: "deposit" sends
// deposit(Who, N, Amount) to the presence KRef without waiting;
// "answers" waits for every deposit sent and answers their results;
// "statement" asks the kernel's own bank for its statement.
func (p *peerKernel) demoOp(ctx context.Context, l peerLine) (peerLine, error, bool) {
	switch l.Op {
	// Not waiting: the result promise is kept, and "answers" waits for it.
	// A burst is several of these in a row.
	case "deposit":
		methargs, err := marshal.Encode([]any{"deposit", []any{l.Who, int64(l.N), l.Amount}})
		if err != nil {
			return peerLine{}, err, true
		}
		err = p.node.DoOut(ctx, func(k *kernel.Kernel) ([]kernel.Output, error) {
			kp, out, err := k.QueueMessage(ctx, kernel.KRef(l.KRef), methargs)
			p.sent = append(p.sent, kp)
			return out, err
		})
		return peerLine{}, err, true
	case "answers":
		var balances []int64
		// In the order sent; a promise settled long ago answers at once.
		for i, kp := range p.sent {
			o, ok := p.settled[kp]
			if !ok {
				var err error
				if o, err = p.node.Wait(ctx, kp); err != nil {
					return peerLine{}, err, true
				}
				p.settled[kp] = o
			}
			if err := o.Err(); err != nil {
				return peerLine{}, fmt.Errorf("deposit %d: %w", i+1, err), true
			}
			v, err := marshal.Decode(o.Value)
			if err != nil {
				return peerLine{}, err, true
			}
			n, err := marshal.Int(v)
			if err != nil {
				return peerLine{}, fmt.Errorf("deposit %d answered %v: %w", i+1, v, err), true
			}
			balances = append(balances, n)
		}
		b, _ := json.Marshal(balances)
		return peerLine{Value: b, N: len(balances)}, nil, true
	case "statement":
		// The bank's own host asks its own root: no link involved.
		methargs, _ := marshal.Encode([]any{"statement", []any{}})
		v, err := p.call(ctx, p.root, methargs)
		if err != nil {
			return peerLine{}, err, true
		}
		b, err := json.Marshal(v)
		return peerLine{Value: b}, err, true
	}
	return peerLine{}, nil, false
}
