package ionexport

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// errBinaryFrame is a binary Ion length that does not fit where it is
// declared; binaryCheck returns it (wrapped) in place of the bytes.
var errBinaryFrame = errors.New("binary Ion length out of bounds")

// binaryCheck passes binary Ion through, checking every value's declared
// length before handing on its header: a value must end within its
// container, and a top-level value within max bytes. The Ion library
// allocates what a length field claims before reading it, so a corrupt
// or hostile length would otherwise claim gigabytes; here it is an error
// at the bytes that declare it.
type binaryCheck struct {
	src  *bufio.Reader
	max  int64   // bound of a top-level value; <= 0 for none
	pos  int64   // bytes handed on
	ends []frame // the containers being read, innermost last
	out  []byte  // checked bytes not yet handed on
	raw  int64   // bytes of a value's content still to pass unchecked
	err  error
}

// frame is a container being read.
type frame struct {
	end      int64
	isStruct bool // its values follow field name VarUInts
}

func newBinaryCheck(r *bufio.Reader, max int) *binaryCheck {
	return &binaryCheck{src: r, max: int64(max)}
}

func (b *binaryCheck) Read(p []byte) (int, error) {
	for len(b.out) == 0 && b.raw == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if b.err = b.next(); b.err != nil {
			b.out, b.raw = nil, 0 // a header found bad is not handed on
		}
	}
	if len(b.out) > 0 {
		n := copy(p, b.out)
		b.out = b.out[n:]
		b.pos += int64(n)
		return n, nil
	}
	if int64(len(p)) > b.raw {
		p = p[:b.raw]
	}
	n, err := b.src.Read(p)
	b.raw -= int64(n)
	b.pos += int64(n)
	if err == io.EOF && b.raw > 0 {
		err = fmt.Errorf("%w: the data ends inside a value", errBinaryFrame)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// at is the position of the next byte to check.
func (b *binaryCheck) at() int64 { return b.pos + int64(len(b.out)) + b.raw }

// byte1 reads one byte into out; the end of the data is an error.
func (b *binaryCheck) byte1() (byte, error) {
	c, err := b.src.ReadByte()
	if err == io.EOF {
		return 0, fmt.Errorf("%w: the data ends inside a value", errBinaryFrame)
	}
	if err != nil {
		return 0, err
	}
	b.out = append(b.out, c)
	return c, nil
}

// varUint reads a VarUInt into out.
func (b *binaryCheck) varUint() (int64, error) {
	var v int64
	for i := 0; i < 9; i++ {
		c, err := b.byte1()
		if err != nil {
			return 0, err
		}
		v = v<<7 | int64(c&0x7F)
		if c&0x80 != 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: a VarUInt longer than 9 bytes", errBinaryFrame)
}

// next checks the next value header (or closes finished containers),
// leaving its bytes in out and its content length in raw.
func (b *binaryCheck) next() error {
	for len(b.ends) > 0 && b.at() >= b.ends[len(b.ends)-1].end {
		if b.at() > b.ends[len(b.ends)-1].end {
			return fmt.Errorf("%w: a value runs past its container", errBinaryFrame)
		}
		b.ends = b.ends[:len(b.ends)-1]
	}
	top := len(b.ends) == 0
	if !top && b.ends[len(b.ends)-1].isStruct {
		if _, err := b.varUint(); err != nil { // field name
			return err
		}
	}
	start := b.at()
	if top && len(b.out) == 0 {
		if _, err := b.src.Peek(1); err == io.EOF {
			return io.EOF
		}
	}
	td, err := b.byte1()
	if err != nil {
		return err
	}
	if top && td == 0xE0 { // version marker: E0 01 00 EA
		for i := 0; i < 3; i++ {
			if _, err := b.byte1(); err != nil {
				return err
			}
		}
		return nil
	}
	t, l := td>>4, int64(td&0x0F)
	length := int64(0)
	switch {
	case t == 1 || l == 15: // bool, or a null of any type
	case t == 15:
		return fmt.Errorf("%w: reserved type code 0x%02X", errBinaryFrame, td)
	case l == 14 || t == 13 && l == 1:
		if length, err = b.varUint(); err != nil {
			return err
		}
	default:
		length = l
	}
	end := b.at() + length
	limit := int64(-1)
	if !top {
		limit = b.ends[len(b.ends)-1].end
	} else if b.max > 0 {
		limit = start + b.max
	}
	if limit >= 0 && end > limit {
		return fmt.Errorf("%w: a value of %d bytes at offset %d", errBinaryFrame, length, start)
	}
	switch t {
	case 11, 12, 13:
		b.ends = append(b.ends, frame{end: end, isStruct: t == 13})
	case 14: // annotation wrapper: annotation length, annotations, a value
		b.ends = append(b.ends, frame{end: end})
		n, err := b.varUint()
		if err != nil {
			return err
		}
		if b.at()+n > end {
			return fmt.Errorf("%w: annotations run past their wrapper", errBinaryFrame)
		}
		b.raw = n
	default:
		b.raw = length
	}
	return nil
}
