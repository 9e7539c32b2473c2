using System.Net;
using System.Net.Sockets;

namespace NodeCache.Core.Tests.Support;

/// <summary>A loopback URL where nothing listens: a port the system just handed out and took back.</summary>
internal static class ClosedPort
{
    public static Uri Uri()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
