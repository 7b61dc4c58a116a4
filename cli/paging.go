package cli

import "flag"

// pagingFlag is --max-live-vats, shared by run and serve: the cap on live
// vat instances (actors.Config.MaxLiveVats, docs/paging.md).
type pagingFlag struct{ max int }

func (p *pagingFlag) register(fs *flag.FlagSet) {
	// No cap by default: paging trades a page-in per delivery to a cold
	// vat for memory, which only a kernel with many idle vats wants, and
	// only vats whose config says pageable are ever paged.
	fs.IntVar(&p.max, "max-live-vats", 0, "most vat instances alive at once; idle vats whose config says pageable: true are paged out beyond it and come back at their next delivery (0: no cap)")
}

// check refuses a negative cap, which would mean nothing.
func (p *pagingFlag) check() error {
	if p.max < 0 {
		return usageErr("--max-live-vats %d: must not be negative (0 means no cap)", p.max)
	}
	return nil
}
