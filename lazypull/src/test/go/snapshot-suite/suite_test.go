// containerd's own snapshotter test suite (snapshots/testsuite, from Debian's
// golang-github-containerd-containerd-dev) run against lazypull's snapshotter daemon through
// containerd's proxy client: each case starts `lazypull snapshotter --no-remote` on a socket in
// the case's temporary root. Run by scripts/containerd-snapshot-suite.sh.
package lazypullsuite

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	snapshotsapi "github.com/containerd/containerd/api/services/snapshots/v1"
	"github.com/containerd/containerd/snapshots"
	"github.com/containerd/containerd/snapshots/proxy"
	"github.com/containerd/containerd/snapshots/testsuite"
	"google.golang.org/grpc"
)

func TestLazypullSnapshotter(t *testing.T) {
	launcher := os.Getenv("LAZYPULL")
	if launcher == "" {
		t.Fatal("set LAZYPULL to the lazypull launcher (bin/lazypull)")
	}
	testsuite.SnapshotterSuite(t, "lazypull", func(ctx context.Context, root string) (snapshots.Snapshotter, func() error, error) {
		socket := filepath.Join(root, "snapshotter.sock")
		daemon := exec.Command(launcher, "snapshotter", "--no-remote",
			"--root", filepath.Join(root, "state"), "--address", socket)
		daemon.Stdout = os.Stderr
		daemon.Stderr = os.Stderr
		if err := daemon.Start(); err != nil {
			return nil, nil, err
		}
		if err := awaitSocket(socket, 120*time.Second); err != nil {
			daemon.Process.Kill()
			daemon.Wait()
			return nil, nil, err
		}
		conn, err := grpc.Dial("unix://"+socket, grpc.WithInsecure())
		if err != nil {
			daemon.Process.Kill()
			daemon.Wait()
			return nil, nil, err
		}
		stop := func() error {
			conn.Close()
			daemon.Process.Signal(syscall.SIGTERM)
			err := daemon.Wait()
			// The JVM ends with 143 (128 + SIGTERM) after its shutdown hooks ran.
			if exit, ok := err.(*exec.ExitError); ok && exit.ExitCode() == 143 {
				return nil
			}
			return err
		}
		return proxy.NewSnapshotter(snapshotsapi.NewSnapshotsClient(conn), "lazypull"), stop, nil
	})
}

func awaitSocket(socket string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("lazypull snapshotter did not listen on %s within %s", socket, timeout)
}
