package marshal

// EncodeMethargs marshals the methargs of a send, the array [method,
// args], exactly as Encode([]any{method, args}) does: the same bytes, the
// same slots, the same errors. It builds no []any to hold the pair, and
// boxes neither the method nor the arguments into interfaces: a vat
// encodes one methargs a send, and those three allocations were a tenth
// of a vat-to-vat round trip's.
func (c *Codec) EncodeMethargs(method string, args []any) (CapData, error) {
	e := &encoder{c: c, b: append(make([]byte, 0, 64), smallcapsPrefix...)}
	// The outer array: one level of nesting, as Encode counts it.
	if err := e.enter(); err != nil {
		return CapData{}, err
	}
	e.b = append(e.b, '[')
	e.b = appendSmallcapsString(e.b, method)
	e.b = append(e.b, ',')
	if err := e.array(len(args), func(i int) any { return args[i] }); err != nil {
		return CapData{}, err
	}
	e.leave()
	e.b = append(e.b, ']')
	return CapData{Body: string(e.b), Slots: e.slots}, nil
}
