// Verifies eStargz blobs with the reference estargz package: TOC digest, every chunk, every file.
package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/containerd/stargz-snapshotter/estargz"
	digest "github.com/opencontainers/go-digest"
)

func check(file, tocDigest string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, _ := f.Stat()
	sr := io.NewSectionReader(f, 0, st.Size())
	r, err := estargz.Open(sr)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	v, err := r.VerifyTOC(digest.Digest(tocDigest))
	if err != nil {
		return fmt.Errorf("verify TOC: %w", err)
	}
	root, ok := r.Lookup("")
	if !ok {
		return fmt.Errorf("no root")
	}
	files, chunks, entries := 0, 0, 0
	var walk func(dir string, e *estargz.TOCEntry) error
	walk = func(dir string, e *estargz.TOCEntry) error {
		var werr error
		e.ForeachChild(func(base string, ent *estargz.TOCEntry) bool {
			entries++
			name := path.Join(dir, base)
			switch ent.Type {
			case "dir":
				werr = walk(name, ent)
			case "reg":
				// A hardlink's child is its target's entry; chunks are keyed by the target's name.
				name = ent.Name
				files++
				fr, err := r.OpenFile(name)
				if err != nil {
					werr = err
					return false
				}
				for off := int64(0); off < ent.Size; {
					ce, ok := r.ChunkEntryForOffset(name, off)
					if !ok {
						werr = fmt.Errorf("%s: no chunk at %d", name, off)
						return false
					}
					buf := make([]byte, ce.ChunkSize)
					if _, err := fr.ReadAt(buf, ce.ChunkOffset); err != nil && err != io.EOF {
						werr = err
						return false
					}
					cv, err := v.Verifier(ce)
					if err != nil {
						werr = fmt.Errorf("%s chunk %d: %w", name, off, err)
						return false
					}
					cv.Write(buf)
					if !cv.Verified() {
						werr = fmt.Errorf("%s chunk at %d: chunkDigest mismatch", name, off)
						return false
					}
					chunks++
					off = ce.ChunkOffset + ce.ChunkSize
				}
				h := sha256.New()
				if _, err := io.Copy(h, io.NewSectionReader(fr, 0, ent.Size)); err != nil {
					werr = err
					return false
				}
				got := digest.NewDigestFromBytes(digest.SHA256, h.Sum(nil))
				if ent.Digest != "" && got.String() != ent.Digest {
					werr = fmt.Errorf("%s: digest %s, TOC says %s", name, got, ent.Digest)
					return false
				}
			}
			return werr == nil
		})
		return werr
	}
	if err := walk("", root); err != nil {
		return err
	}
	fmt.Printf("OK %s: TOC %s verified, %d entries, %d regular files, %d chunks verified\n",
		file, tocDigest, entries, files, chunks)
	return nil
}

func main() {
	failed := false
	for i := 1; i+1 < len(os.Args); i += 2 {
		if err := check(os.Args[i], os.Args[i+1]); err != nil {
			fmt.Printf("FAIL %s: %v\n", os.Args[i], err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
