// Command verifynote opens a signed note from standard input with Go's
// golang.org/x/mod/sumdb/note, trusting the verifier keys given as arguments,
// and prints the note's text and the names of the keys that verified.
//
// A verifier key of type 0x04 (C2SP tlog-cosignature v1, a witness's key) is
// not one sumdb/note knows: its signatures are checked here with Go's
// crypto/ed25519 over "cosignature/v1\ntime <t>\n" + the note's text, and
// printed as "cosigned <name> <key hash> <time>".
//
// It exits 1 when the note does not verify (or a witness key given does not
// cosign it), 2 on a bad key.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

// parseCosigner reads name+hash+base64(0x04 || key), checking the key hash
// as C2SP signed-note defines it: SHA-256(name || "\n" || 0x04 || key)[:4].
func parseCosigner(vkey string) (*cosigner, bool) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 1+ed25519.PublicKeySize || raw[0] != 0x04 {
		return nil, false
	}
	var hash uint32
	if _, err := fmt.Sscanf(parts[1], "%08x", &hash); err != nil || len(parts[1]) != 8 {
		return nil, false
	}
	sum := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	if binary.BigEndian.Uint32(sum[:4]) != hash {
		return nil, false
	}
	return &cosigner{parts[0], hash, ed25519.PublicKey(raw[1:])}, true
}

// check returns the cosignature's time when sig is a valid cosignature of text.
func (c *cosigner) check(text string, sig note.Signature) (uint64, bool) {
	if sig.Name != c.name || sig.Hash != c.hash {
		return 0, false
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Base64)
	if err != nil || len(raw) != 4+8+ed25519.SignatureSize {
		return 0, false
	}
	if binary.BigEndian.Uint32(raw[:4]) != c.hash {
		return 0, false
	}
	t := binary.BigEndian.Uint64(raw[4:12])
	msg := bytes.NewBufferString(fmt.Sprintf("cosignature/v1\ntime %d\n", t))
	msg.WriteString(text)
	return t, ed25519.Verify(c.key, msg.Bytes(), raw[12:])
}

func main() {
	var verifiers []note.Verifier
	var cosigners []*cosigner
	for _, vkey := range os.Args[1:] {
		if c, ok := parseCosigner(vkey); ok {
			cosigners = append(cosigners, c)
			continue
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad verifier key:", err)
			os.Exit(2)
		}
		verifiers = append(verifiers, v)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	n, err := note.Open(msg, note.VerifierList(verifiers...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rejected:", err)
		os.Exit(1)
	}
	fmt.Print(n.Text)
	for _, sig := range n.Sigs {
		fmt.Printf("verified %s %08x\n", sig.Name, sig.Hash)
	}
	unverified := 0
	for _, sig := range n.UnverifiedSigs {
		done := false
		for _, c := range cosigners {
			if t, ok := c.check(n.Text, sig); ok {
				fmt.Printf("cosigned %s %08x %d\n", sig.Name, sig.Hash, t)
				done = true
			}
		}
		if !done {
			unverified++
		}
	}
	fmt.Printf("unverified %d\n", unverified)
	for _, c := range cosigners {
		found := false
		for _, sig := range n.UnverifiedSigs {
			if _, ok := c.check(n.Text, sig); ok {
				found = true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "not cosigned by %s %08x\n", c.name, c.hash)
			os.Exit(1)
		}
	}
}
