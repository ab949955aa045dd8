package console

import (
	"context"
	"fmt"
)

// SecondaryDataReader is an optional capability of the Env or of its
// Target: the tagged
// secondary dump data that drivers add to a Windows triage dump
// (.enumtag). core/session provides it over core/kdmp.
type SecondaryDataReader interface {
	SecondaryTags() []SecondaryTag
	// SecondaryBytes returns up to max bytes of the i-th tag's data.
	SecondaryBytes(i, max int) ([]byte, error)
}

// SecondaryTag is one blob of secondary dump data.
type SecondaryTag struct {
	Tag     string // a GUID, {XXXXXXXX-...}
	Size    uint32 // bytes of data
	Present uint32 // bytes of it the file holds (less in a truncated dump)
}

// enumtagShown is how much of each blob .enumtag prints.
const enumtagShown = 0x100

func enumtagCommand() Command {
	return Command{Names: []string{".enumtag"}, Kind: Meta, Group: GroupTarget, Usage: ".enumtag",
		Summary: "list the secondary dump data tags of a triage dump, with their data",
		Help: "Lists the blobs of secondary dump data that drivers added to a Windows kernel triage dump " +
			"(KeRegisterBugCheckReasonCallback), each as its GUID tag and size followed by the first 0x100 bytes in hex and ASCII, as WinDbg's .enumtag does.",
		Run: runEnumtag}
}

func runEnumtag(ctx context.Context, env Env, _ *Invocation, out Output) error {
	sd, ok := env.(SecondaryDataReader)
	if !ok {
		sd, ok = env.Target().(SecondaryDataReader)
	}
	var tags []SecondaryTag
	if ok {
		tags = sd.SecondaryTags()
	}
	if len(tags) == 0 {
		return &NotSupportedError{What: "this dump carries no secondary dump data: .enumtag is for Windows triage dumps with driver data"}
	}
	for i, t := range tags {
		if err := ctx.Err(); err != nil {
			return err
		}
		line := fmt.Sprintf("%s - %#x bytes", t.Tag, t.Size)
		if t.Present < t.Size {
			line += fmt.Sprintf(" (%#x in the file: truncated)", t.Present)
		}
		out.Text(line + "\n")
		b, err := sd.SecondaryBytes(i, enumtagShown)
		if err != nil {
			out.Text("  " + err.Error() + "\n")
			continue
		}
		for off := 0; off < len(b); off += 16 {
			out.Text("  " + hexLine(b[off:min(off+16, len(b))]) + "\n")
		}
		if rest := int(t.Present) - len(b); rest > 0 {
			out.Text(fmt.Sprintf("  (%#x more bytes)\n", rest))
		}
	}
	return nil
}

// hexLine formats up to 16 bytes as WinDbg's db does, without an address:
// the bytes in hex, a dash after the eighth, then the ASCII.
func hexLine(b []byte) string {
	var hex, asc []byte
	for k := range 16 {
		if k < len(b) {
			hex = fmt.Appendf(hex, "%02X", b[k])
		} else {
			hex = append(hex, "  "...)
		}
		if k == 7 && len(b) > 8 {
			hex = append(hex, '-')
		} else {
			hex = append(hex, ' ')
		}
	}
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			asc = append(asc, c)
		} else {
			asc = append(asc, '.')
		}
	}
	return string(hex) + " " + string(asc)
}
