package dev.lazypull.testing;

import dev.lazypull.containerd.ContainerdConnection;
import dev.lazypull.containerd.api.cri.ContainerConfig;
import dev.lazypull.containerd.api.cri.ContainerMetadata;
import dev.lazypull.containerd.api.cri.ContainerState;
import dev.lazypull.containerd.api.cri.ContainerStatus;
import dev.lazypull.containerd.api.cri.ContainerStatusRequest;
import dev.lazypull.containerd.api.cri.CreateContainerRequest;
import dev.lazypull.containerd.api.cri.ImageServiceGrpc;
import dev.lazypull.containerd.api.cri.ImageSpec;
import dev.lazypull.containerd.api.cri.LinuxPodSandboxConfig;
import dev.lazypull.containerd.api.cri.LinuxSandboxSecurityContext;
import dev.lazypull.containerd.api.cri.NamespaceMode;
import dev.lazypull.containerd.api.cri.NamespaceOption;
import dev.lazypull.containerd.api.cri.PodSandboxConfig;
import dev.lazypull.containerd.api.cri.PodSandboxMetadata;
import dev.lazypull.containerd.api.cri.PullImageRequest;
import dev.lazypull.containerd.api.cri.RemoveContainerRequest;
import dev.lazypull.containerd.api.cri.RemoveImageRequest;
import dev.lazypull.containerd.api.cri.RemovePodSandboxRequest;
import dev.lazypull.containerd.api.cri.RunPodSandboxRequest;
import dev.lazypull.containerd.api.cri.RuntimeServiceGrpc;
import dev.lazypull.containerd.api.cri.StartContainerRequest;
import dev.lazypull.containerd.api.cri.StopContainerRequest;
import dev.lazypull.containerd.api.cri.StopPodSandboxRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A small CRI client (what crictl does, which Debian does not package) on containerd's CRI gRPC
 * socket: pulls images and runs pods on the host network, so no CNI plugin is needed.
 */
public final class CriClient implements AutoCloseable {
  private static final long CALL_TIMEOUT_SECONDS = 120;

  private final ContainerdConnection connection;

  private CriClient(ContainerdConnection connection) {
    this.connection = connection;
  }

  public static CriClient open(Path containerdSocket) {
    return new CriClient(ContainerdConnection.open(containerdSocket));
  }

  /** A running pod: its id, the config containers repeat, and the directory of its logs. */
  public record Pod(String id, PodSandboxConfig config, Path logDirectory) {}

  private ImageServiceGrpc.ImageServiceBlockingStub images() {
    return ImageServiceGrpc.newBlockingStub(connection.channel("k8s.io", null))
        .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
    return RuntimeServiceGrpc.newBlockingStub(connection.channel("k8s.io", null))
        .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** PullImage; returns the image id (sha256:...) containerd answers. */
  public String pullImage(String image) {
    return images()
        .pullImage(
            PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build())
        .getImageRef();
  }

  /** RemoveImage: every name of the image goes, and containerd collects what it no longer needs. */
  public void removeImage(String image) {
    images()
        .removeImage(
            RemoveImageRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage(image))
                .build());
  }

  /**
   * RunPodSandbox with the node's network namespace (NamespaceOption network=NODE): the sandbox
   * then needs no CNI network, which these machines cannot give it.
   */
  public Pod runPodSandbox(String name, Path logDirectory) throws IOException {
    Files.createDirectories(logDirectory);
    var config =
        PodSandboxConfig.newBuilder()
            .setMetadata(
                PodSandboxMetadata.newBuilder()
                    .setName(name)
                    .setNamespace("default")
                    .setUid(UUID.randomUUID().toString()))
            .setLogDirectory(logDirectory.toString())
            .setLinux(
                LinuxPodSandboxConfig.newBuilder()
                    .setSecurityContext(
                        LinuxSandboxSecurityContext.newBuilder()
                            .setNamespaceOptions(
                                NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE))))
            .build();
    String id =
        runtime()
            .runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build())
            .getPodSandboxId();
    return new Pod(id, config, logDirectory);
  }

  /** CreateContainer in {@code pod} running {@code command}; its log is {@code name}.log. */
  public String createContainer(Pod pod, String name, String image, List<String> command) {
    var config =
        ContainerConfig.newBuilder()
            .setMetadata(ContainerMetadata.newBuilder().setName(name))
            .setImage(ImageSpec.newBuilder().setImage(image))
            .addAllCommand(command)
            .setLogPath(name + ".log")
            .build();
    return runtime()
        .createContainer(
            CreateContainerRequest.newBuilder()
                .setPodSandboxId(pod.id())
                .setConfig(config)
                .setSandboxConfig(pod.config())
                .build())
        .getContainerId();
  }

  public void startContainer(String containerId) {
    runtime()
        .startContainer(StartContainerRequest.newBuilder().setContainerId(containerId).build());
  }

  public ContainerStatus status(String containerId) {
    return runtime()
        .containerStatus(ContainerStatusRequest.newBuilder().setContainerId(containerId).build())
        .getStatus();
  }

  /** Polls ContainerStatus until the container has exited; fails after {@code seconds}. */
  public ContainerStatus awaitExit(String containerId, int seconds)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      ContainerStatus status = status(containerId);
      if (status.getState() == ContainerState.CONTAINER_EXITED) {
        return status;
      }
      Thread.sleep(50);
    }
    throw new IOException("container " + containerId + " did not exit within " + seconds + " s");
  }

  /**
   * The text a container wrote, read from its CRI log file: each line is {@code TIME STREAM TAG
   * TEXT}, where tag P marks a partial line that the next entry continues and F a full line.
   */
  public static String logText(Path logFile) throws IOException {
    var text = new StringBuilder();
    for (String line : Files.readAllLines(logFile)) {
      String[] fields = line.split(" ", 4);
      if (fields.length < 3) {
        throw new IOException("not a CRI log line in " + logFile + ": " + line);
      }
      text.append(fields.length == 4 ? fields[3] : "");
      if (fields[2].startsWith("F")) {
        text.append('\n');
      }
    }
    return text.toString();
  }

  /** StopContainer (at once) and RemoveContainer. */
  public void removeContainer(String containerId) {
    runtime().stopContainer(StopContainerRequest.newBuilder().setContainerId(containerId).build());
    runtime()
        .removeContainer(RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
  }

  /** StopPodSandbox and RemovePodSandbox (which removes its containers too). */
  public void removePod(Pod pod) {
    runtime().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod.id()).build());
    runtime()
        .removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod.id()).build());
  }

  @Override
  public void close() throws InterruptedException {
    connection.close();
  }
}
