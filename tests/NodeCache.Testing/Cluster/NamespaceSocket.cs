using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NodeCache.Testing.Cluster;

/// <summary>
/// Opens TCP sockets inside a network namespace from this process. A socket belongs to the namespace of the thread that
/// created it, and <c>setns(2)</c> moves only the calling thread: so a short-lived thread of its own joins the namespace,
/// creates the socket and ends, and the socket keeps talking from inside the namespace on whatever thread uses it next.
/// That lets one test process be every node's local client (127.0.0.1:5050 of each node) without a process per node.
/// </summary>
internal static partial class NamespaceSocket
{
    private const int CloneNewNet = 0x40000000;

    public static Socket Open(string namespaceName)
    {
        Socket? socket = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{namespaceName}");
                if (SetNamespace((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns into network namespace {namespaceName} failed: errno {Marshal.GetLastPInvokeError()} (needs root)");
                }
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            }
            catch (Exception e)
            {
                failure = e;
            }
        })
        {
            IsBackground = true,
            Name = $"netns {namespaceName}",
        };
        thread.Start();
        thread.Join();
        return socket ?? throw (failure ?? new InvalidOperationException($"no socket in {namespaceName}"));
    }

    /// <summary>A handler whose connections all start inside <paramref name="namespaceName"/>: its 127.0.0.1 is the node's own loopback.</summary>
    public static SocketsHttpHandler Handler(string namespaceName, TimeSpan? connectTimeout = null) => new()
    {
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(10),
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = Open(namespaceName);
            try
            {
                await socket.ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNamespace(int fd, int nsType);
}
