package main

import (
	"fmt"
	"strings"

	"github.com/ocapgo/kernel-actors/marshal"
	"github.com/ocapgo/kernel-actors/vat"
)

// The bundle names, prefixed with the demo's name (the binary lists
// every demo's bundles in one registry).
const (
	inventoryBundle = "embed/inventory"
	pricingBundle   = "embed/pricing"
)

// register adds the demo's bundles to reg.
func register(reg *vat.Registry) {
	reg.MustRegister(inventoryBundle, buildInventory, vat.About{Summary: "the stock: reserves items at the price the pricing vat quotes",
		Methods: []string{"bootstrap(vats, services)", "reserve(item, qty)", "stock()"}})
	reg.MustRegister(pricingBundle, buildPricing, vat.About{Summary: "quotes a price for a quantity of an item",
		Methods: []string{"quote(item, qty)"}})
}

// buildInventory is the inventory: stock levels by item, in baggage, with
// the pricing vat's presence (also in baggage, so that an incarnation
// after a restart still reaches it; bootstrap is not sent again).
//
// Parameters: "stock", a record of item -> starting quantity.
func buildInventory(vc *vat.Context) (any, error) {
	stock := func(item string) int64 {
		v, _ := vc.Baggage.Get("stock." + item)
		n, _ := marshal.Int(v)
		return n
	}
	setStock := func(item string, n int64) error { return vc.Baggage.Set("stock."+item, n) }
	return vat.Far("inventory", vat.Methods{
		// bootstrap(vats, services) stocks the shelves and keeps pricing.
		"bootstrap": func(c *vat.Call) (any, error) {
			vats, _ := c.Arg(0).(map[string]any)
			if err := vc.Baggage.Set("pricing", vats["pricing"]); err != nil {
				return nil, err
			}
			initial, _ := vc.Parameters["stock"].(map[string]any)
			for item, q := range initial {
				n, err := marshal.Int(q)
				if err != nil {
					return nil, fmt.Errorf("inventory: stock of %s: %w", item, err)
				}
				if err := setStock(item, n); err != nil {
					return nil, err
				}
			}
			return "open", nil
		},
		// reserve(item, qty) takes qty items off the shelf and returns
		// {item, qty, total, left}, total being pricing's quote in cents.
		"reserve": func(c *vat.Call) (any, error) {
			item, _ := c.Arg(0).(string)
			qty, err := marshal.Int(c.Arg(1))
			if err != nil || qty <= 0 {
				return nil, fmt.Errorf("reserve: want a positive quantity, got %v", c.Arg(1))
			}
			left := stock(item)
			if qty > left {
				// An error rejects the caller's promise and nothing more:
				// the vat is fine, and so is its stock.
				return nil, fmt.Errorf("only %d %s left", left, item)
			}
			// Check and take in one go, before the Await below: while
			// this method waits for the quote the vat serves other
			// deliveries, and they must see the stock already taken.
			if err := setStock(item, left-qty); err != nil {
				return nil, err
			}
			pricing, _ := vc.Baggage.Get("pricing")
			// A vat-to-vat call through the kernel; Await parks this
			// method (not the vat) until pricing answers, cranks later.
			total, err := vat.E(pricing).Send("quote", item, qty).Await()
			if err != nil {
				// No price, no sale: put the items back. (Add rather than
				// restore left: other orders may have moved it since.)
				if perr := setStock(item, stock(item)+qty); perr != nil {
					return nil, perr
				}
				return nil, err
			}
			return map[string]any{"item": item, "qty": qty, "total": total, "left": left - qty}, nil
		},
		// stock() returns every item's quantity.
		"stock": func(c *vat.Call) (any, error) {
			all := map[string]any{}
			for _, k := range vc.Baggage.Keys() {
				if item, ok := strings.CutPrefix(k, "stock."); ok {
					all[item] = stock(item)
				}
			}
			return all, nil
		},
	}), nil
}

// buildPricing is the price list: quote(item, qty) is the price of qty
// items, in cents. Parameters: "prices", a record of item -> cents each.
func buildPricing(vc *vat.Context) (any, error) {
	prices, _ := vc.Parameters["prices"].(map[string]any)
	return vat.Far("pricing", vat.Methods{
		"quote": func(c *vat.Call) (any, error) {
			item, _ := c.Arg(0).(string)
			qty, err := marshal.Int(c.Arg(1))
			if err != nil {
				return nil, fmt.Errorf("quote: want a quantity, got %v", c.Arg(1))
			}
			each, ok := prices[item]
			if !ok {
				return nil, fmt.Errorf("no price for %s", item)
			}
			cents, err := marshal.Int(each)
			if err != nil {
				return nil, fmt.Errorf("quote: price of %s: %w", item, err)
			}
			return cents * qty, nil
		},
	}), nil
}
