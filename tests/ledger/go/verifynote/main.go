// Command verifynote opens a signed note from standard input with Go's
// golang.org/x/mod/sumdb/note, trusting the verifier keys given as arguments,
// and prints the note's text and the names of the keys that verified.
// It exits 1 when the note does not verify, 2 on a bad key.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	var verifiers []note.Verifier
	for _, vkey := range os.Args[1:] {
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
	fmt.Printf("unverified %d\n", len(n.UnverifiedSigs))
}
