using System.Net;
using System.Net.Sockets;

namespace NodeCache.Testing;

/// <summary>Hands out free TCP ports on 127.0.0.1 for servers that need their port named before they start.</summary>
public static class LoopbackPort
{
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A port the kernel just reported free. The kernel may give the same ephemeral port to two callers between
    /// release and bind, so ports already handed out in this test run are never returned twice.
    /// </summary>
    public static int Next()
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
        throw new InvalidOperationException("no free loopback port after 100 attempts");
    }
}
