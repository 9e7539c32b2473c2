using System.Net.Sockets;
using System.Text;

namespace NodeCache.Upstream;

/// <summary>
/// Tells an upstream that answers in plain HTTP from one whose TLS is broken, after a TLS handshake with it failed: a
/// registry run without TLS (<c>docker-registry</c> on port 5000, say) and named by an https URL, or by none, fails with
/// a handshake error that says nothing a user can act on.
/// </summary>
internal static class PlainHttpProbe
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("GET /v2/ HTTP/1.0\r\n\r\n");

    /// <summary>True when the handshake failure is a TLS one and the server answers a plain HTTP request on the same port.</summary>
    public static async Task<bool> AnswersPlainHttpAsync(Exception failure, Uri uri, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (uri.Scheme != Uri.UriSchemeHttps || failure is not HttpRequestException { HttpRequestError: HttpRequestError.SecureConnectionError })
        {
            return false;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(uri.Host, uri.Port, deadline.Token).ConfigureAwait(false);
            await socket.SendAsync(Request, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var answer = new byte[5];
            var read = 0;
            while (read < answer.Length)
            {
                var n = await socket.ReceiveAsync(answer.AsMemory(read), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }
                read += n;
            }
            return answer.AsSpan(0, read).SequenceEqual("HTTP/"u8);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
