// Independent check of Steward's audit log formats with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog (the code C2SP checkpoints come from). Driven by tests/go_interop.rs; built offline
// in GOPATH mode against Debian's golang-golang-x-mod-dev.
//
//	verify <dir>                   check files written by Steward, exit 1 on any failure
//	sign <dir> <index> <old size>  sign a checkpoint and write proofs for Steward to check
//
// Files in <dir>: verifier_key (note verifier key), records (one base64 record per line),
// checkpoint and old_checkpoint (signed notes), inclusion (record index, then one base64 hash
// per line), consistency (one base64 hash per line).
package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func main() {
	if len(os.Args) < 3 {
		fail(errors.New("usage: verify <dir> | sign <dir> <index> <old size>"))
	}
	var err error
	switch os.Args[1] {
	case "verify":
		err = verify(os.Args[2])
	case "sign":
		if len(os.Args) != 5 {
			fail(errors.New("usage: sign <dir> <index> <old size>"))
		}
		err = sign(os.Args[2], os.Args[3], os.Args[4])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "go:", err)
	os.Exit(1)
}

// memoryLog is the stored hashes of a log, as tlog.StoredHashes lays them out.
type memoryLog []tlog.Hash

func (l memoryLog) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(l)) {
			return nil, fmt.Errorf("missing stored hash %d", x)
		}
		out[i] = l[x]
	}
	return out, nil
}

func buildLog(records [][]byte) (memoryLog, error) {
	var log memoryLog
	for n, record := range records {
		hashes, err := tlog.StoredHashes(int64(n), record, log)
		if err != nil {
			return nil, err
		}
		log = append(log, hashes...)
	}
	return log, nil
}

func readLines(dir, name string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return nil, nil
	}
	return strings.Split(text, "\n"), nil
}

func readRecords(dir string) ([][]byte, error) {
	lines, err := readLines(dir, "records")
	if err != nil {
		return nil, err
	}
	records := make([][]byte, len(lines))
	for i, line := range lines {
		if records[i], err = base64.StdEncoding.DecodeString(line); err != nil {
			return nil, fmt.Errorf("record %d: %v", i, err)
		}
	}
	return records, nil
}

func parseHashes(lines []string) ([]tlog.Hash, error) {
	hashes := make([]tlog.Hash, len(lines))
	for i, line := range lines {
		h, err := tlog.ParseHash(line)
		if err != nil {
			return nil, fmt.Errorf("proof hash %d: %v", i, err)
		}
		hashes[i] = h
	}
	return hashes, nil
}

// openCheckpoint verifies a C2SP checkpoint note and returns its size and root hash.
func openCheckpoint(dir, name string, verifier note.Verifier) (int64, tlog.Hash, error) {
	msg, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("%s: note.Open: %v", name, err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != verifier.Name() {
		return 0, tlog.Hash{}, fmt.Errorf("%s: not a checkpoint of %s: %q", name, verifier.Name(), n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return 0, tlog.Hash{}, fmt.Errorf("%s: bad tree size %q", name, lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("%s: bad root hash: %v", name, err)
	}
	return size, root, nil
}

func verify(dir string) error {
	keyLines, err := readLines(dir, "verifier_key")
	if err != nil || len(keyLines) != 1 {
		return fmt.Errorf("verifier_key: %v", err)
	}
	verifier, err := note.NewVerifier(keyLines[0])
	if err != nil {
		return fmt.Errorf("note.NewVerifier: %v", err)
	}
	size, root, err := openCheckpoint(dir, "checkpoint", verifier)
	if err != nil {
		return err
	}
	oldSize, oldRoot, err := openCheckpoint(dir, "old_checkpoint", verifier)
	if err != nil {
		return err
	}

	records, err := readRecords(dir)
	if err != nil {
		return err
	}
	if int64(len(records)) != size {
		return fmt.Errorf("%d records for a checkpoint of size %d", len(records), size)
	}
	log, err := buildLog(records)
	if err != nil {
		return err
	}
	for _, tree := range []struct {
		size int64
		root tlog.Hash
	}{{size, root}, {oldSize, oldRoot}} {
		h, err := tlog.TreeHash(tree.size, log)
		if err != nil {
			return err
		}
		if h != tree.root {
			return fmt.Errorf("tlog.TreeHash(%d) = %v, checkpoint says %v", tree.size, h, tree.root)
		}
	}

	inclusion, err := readLines(dir, "inclusion")
	if err != nil || len(inclusion) < 1 {
		return fmt.Errorf("inclusion: %v", err)
	}
	index, err := strconv.ParseInt(inclusion[0], 10, 64)
	if err != nil || index < 0 || index >= int64(len(records)) {
		return fmt.Errorf("inclusion: bad index %q", inclusion[0])
	}
	recordProof, err := parseHashes(inclusion[1:])
	if err != nil {
		return err
	}
	if err := tlog.CheckRecord(recordProof, size, root, index, tlog.RecordHash(records[index])); err != nil {
		return fmt.Errorf("tlog.CheckRecord(index %d, size %d): %v", index, size, err)
	}

	consistency, err := readLines(dir, "consistency")
	if err != nil {
		return err
	}
	treeProof, err := parseHashes(consistency)
	if err != nil {
		return err
	}
	if err := tlog.CheckTree(treeProof, size, root, oldSize, oldRoot); err != nil {
		return fmt.Errorf("tlog.CheckTree(%d -> %d): %v", oldSize, size, err)
	}

	// Beyond verifying: the proofs are exactly the ones tlog itself produces.
	goRecordProof, err := tlog.ProveRecord(size, index, log)
	if err != nil {
		return err
	}
	if !sameHashes(goRecordProof, recordProof) {
		return errors.New("inclusion proof differs from tlog.ProveRecord")
	}
	goTreeProof, err := tlog.ProveTree(size, oldSize, log)
	if err != nil {
		return err
	}
	if !sameHashes(goTreeProof, treeProof) {
		return errors.New("consistency proof differs from tlog.ProveTree")
	}
	fmt.Printf("go: verified checkpoint %d, record %d and consistency from %d\n", size, index, oldSize)
	return nil
}

func sameHashes(a, b []tlog.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func sign(dir, indexText, oldSizeText string) error {
	index, err1 := strconv.ParseInt(indexText, 10, 64)
	oldSize, err2 := strconv.ParseInt(oldSizeText, 10, 64)
	if err1 != nil || err2 != nil {
		return errors.New("bad index or old size")
	}
	records, err := readRecords(dir)
	if err != nil {
		return err
	}
	log, err := buildLog(records)
	if err != nil {
		return err
	}
	size := int64(len(records))
	skey, vkey, err := note.GenerateKey(rand.Reader, "go.example/log")
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	writeCheckpoint := func(name string, n int64) error {
		h, err := tlog.TreeHash(n, log)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("%s\n%d\n%s\n", signer.Name(), n, h)
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name), msg, 0o644)
	}
	if err := writeCheckpoint("checkpoint", size); err != nil {
		return err
	}
	if err := writeCheckpoint("old_checkpoint", oldSize); err != nil {
		return err
	}
	recordProof, err := tlog.ProveRecord(size, index, log)
	if err != nil {
		return err
	}
	treeProof, err := tlog.ProveTree(size, oldSize, log)
	if err != nil {
		return err
	}
	inclusion := []string{strconv.FormatInt(index, 10)}
	for _, h := range recordProof {
		inclusion = append(inclusion, h.String())
	}
	var consistency []string
	for _, h := range treeProof {
		consistency = append(consistency, h.String())
	}
	files := map[string]string{
		"verifier_key": vkey + "\n",
		"inclusion":    strings.Join(inclusion, "\n") + "\n",
		"consistency":  strings.Join(consistency, "\n") + "\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
