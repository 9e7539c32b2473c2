using System.Net.Sockets;
using System.Text;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>Warm blobs answered at the connection with sendfile, side by side with Kestrel on one keep-alive connection.</summary>
public sealed class SendfileConnectionTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";

    private readonly OciImageBuilder _builder = new(seed: 701);
    private RegistryProcess _registry = null!;
    private AgentProcess _agent = null!;
    private BuiltImage _image = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        _image = await _builder.BuildAsync("team/warm", "1", [3 * OciImageBuilder.MiB]);
        await OciPusher.For(_registry).PushAsync(_image);
        _agent = await AgentProcess.StartAsync(AgentProcess.Upstream(Harbor, _registry.BaseUri));
        using var http = new HttpClient();
        using var fill = await http.GetAsync(new Uri(_agent.BaseUri, BlobPath));
        Assert.True(fill.IsSuccessStatusCode);
        // The record follows the last byte once the file is flushed to disk: until then the blob is served by its fill.
        var cached = $"Cached blob {_image.Layers[0].Digest}";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!_agent.Output.Text().Contains(cached, StringComparison.Ordinal))
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _registry.DisposeAsync();
        _builder.Dispose();
    }

    private string BlobPath => $"/v2/{_image.Repository}/blobs/{_image.Layers[0].Digest}?ns={Harbor}";

    [Fact]
    public async Task Warm_blobs_and_other_requests_share_one_keep_alive_connection_until_a_blob_closes_it()
    {
        using var connection = await RawHttpConnection.OpenAsync(_agent);

        var first = await connection.SendAsync($"GET {BlobPath} HTTP/1.1\r\nHost: agent\r\n\r\n");
        var manifest = await connection.SendAsync($"GET /v2/{_image.Repository}/manifests/1?ns={Harbor} HTTP/1.1\r\nHost: agent\r\nAccept: {_image.ManifestMediaType}\r\n\r\n");
        var range = await connection.SendAsync($"GET {BlobPath} HTTP/1.1\r\nHost: agent\r\nRange: bytes=10-19\r\n\r\n");
        var again = await connection.SendAsync($"GET {BlobPath} HTTP/1.1\r\nHost: agent\r\n\r\n");

        var blob = _image.Layers[0].ReadAllBytes();
        Assert.Equal(200, first.Status);
        Assert.Equal(blob, first.Body);
        Assert.Equal(_image.Layers[0].Digest.ToString(), first.Headers["docker-content-digest"]);
        Assert.Equal(200, manifest.Status);
        Assert.Equal(_image.ManifestBytes, manifest.Body);
        Assert.Equal(206, range.Status);
        Assert.Equal(blob[10..20], range.Body);
        Assert.Equal(200, again.Status);
        Assert.Equal(blob, again.Body);
        // Kestrel owns the connection once it served the manifest: the blob went out by sendfile with Connection: close.
        Assert.Equal("close", again.Headers["connection"]);
        Assert.True(await connection.IsClosedByServerAsync());
        using var next = await RawHttpConnection.OpenAsync(_agent);
        Assert.Equal(blob, (await next.SendAsync($"GET {BlobPath} HTTP/1.1\r\nHost: agent\r\n\r\n")).Body);
    }

    [Fact]
    public async Task Pipelined_gets_of_a_warm_blob_each_get_a_whole_response()
    {
        using var connection = await RawHttpConnection.OpenAsync(_agent);
        var request = $"GET {BlobPath} HTTP/1.1\r\nHost: agent\r\n\r\n";

        await connection.WriteAsync(request + request + request);
        var responses = new[] { await connection.ReadResponseAsync(), await connection.ReadResponseAsync(), await connection.ReadResponseAsync() };

        Assert.All(responses, r => Assert.Equal(_image.Layers[0].ReadAllBytes(), r.Body));
    }

    [Fact]
    public async Task Connection_close_is_honoured_after_the_blob()
    {
        using var connection = await RawHttpConnection.OpenAsync(_agent);

        var response = await connection.SendAsync($"GET {BlobPath} HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("close", response.Headers["connection"]);
        Assert.True(await connection.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_blob_not_yet_cached_is_left_to_the_fill()
    {
        var cold = await _builder.BuildAsync("team/cold", "1", [64 * OciImageBuilder.KiB]);
        await OciPusher.For(_registry).PushAsync(cold);
        using var connection = await RawHttpConnection.OpenAsync(_agent);

        var response = await connection.SendAsync($"GET /v2/{cold.Repository}/blobs/{cold.Layers[0].Digest}?ns={Harbor} HTTP/1.1\r\nHost: agent\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal(cold.Layers[0].ReadAllBytes(), response.Body);
        Assert.Equal(1, await _registry.CountBlobGetsAsync(cold.Layers[0].Digest));
    }

    [Fact]
    public async Task A_client_probing_for_TLS_is_refused_at_once_instead_of_after_the_head_timeout()
    {
        // skopeo, crane, docker and podman try HTTPS first on an insecure registry and fall back to HTTP when it fails.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", _agent.BaseUri.Port);
        await using var tls = new System.Net.Security.SslStream(new NetworkStream(socket, ownsSocket: false));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var failure = await Record.ExceptionAsync(() => tls.AuthenticateAsClientAsync("127.0.0.1").WaitAsync(TimeSpan.FromSeconds(20)));

        Assert.NotNull(failure);
        Assert.IsNotType<TimeoutException>(failure);
        // The head timeout (10 s) is what a probe waited before; a refusal takes a round trip.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the TLS probe took {clock.Elapsed.TotalSeconds:F1} s to fail");
    }

    /// <summary>HTTP/1.1 spoken by hand, so the test controls keep-alive and pipelining exactly.</summary>
    private sealed class RawHttpConnection : IDisposable
    {
        private readonly Socket _socket;
        private readonly NetworkStream _stream;
        private readonly List<byte> _pending = [];

        private RawHttpConnection(Socket socket)
        {
            _socket = socket;
            _stream = new NetworkStream(socket, ownsSocket: false);
        }

        public static async Task<RawHttpConnection> OpenAsync(AgentProcess agent)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
            await socket.ConnectAsync("127.0.0.1", agent.BaseUri.Port);
            return new RawHttpConnection(socket);
        }

        public async Task<RawResponse> SendAsync(string request)
        {
            await WriteAsync(request);
            return await ReadResponseAsync();
        }

        public Task WriteAsync(string request) => _stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask();

        public async Task<RawResponse> ReadResponseAsync()
        {
            var headEnd = await FillUntilAsync(() => IndexOfHeadEnd());
            var head = Encoding.ASCII.GetString(_pending.GetRange(0, headEnd).ToArray()).Split("\r\n");
            _pending.RemoveRange(0, headEnd + 4);
            var headers = head.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
            var length = int.Parse(headers["content-length"], System.Globalization.CultureInfo.InvariantCulture);
            await FillUntilAsync(() => _pending.Count >= length ? length : -1);
            var body = _pending.GetRange(0, length).ToArray();
            _pending.RemoveRange(0, length);
            return new RawResponse(int.Parse(head[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), headers, body);
        }

        public async Task<bool> IsClosedByServerAsync()
        {
            var buffer = new byte[1];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await _stream.ReadAsync(buffer, timeout.Token) == 0;
        }

        public void Dispose()
        {
            _stream.Dispose();
            _socket.Dispose();
        }

        private async Task<int> FillUntilAsync(Func<int> found)
        {
            var buffer = new byte[64 * 1024];
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            int at;
            while ((at = found()) < 0)
            {
                var read = await _stream.ReadAsync(buffer, timeout.Token);
                Assert.True(read > 0, "the server closed the connection mid-response");
                _pending.AddRange(buffer.AsSpan(0, read));
            }
            return at;
        }

        private int IndexOfHeadEnd()
        {
            for (var i = 0; i + 3 < _pending.Count; i++)
            {
                if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n')
                {
                    return i;
                }
            }
            return -1;
        }
    }

    private sealed record RawResponse(int Status, Dictionary<string, string> Headers, byte[] Body);
}
