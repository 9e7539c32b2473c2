using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using NodeCache.Oci;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>
/// A sha512-addressed image pulled through the real agent from an upstream that serves it as a registry does (the
/// distribution registry here cannot): filled and verified by sha512, cached under blobs/sha512/, served warm at the
/// connection, kept across a crash and checked by the scrub, and refused when its bytes are not its digest's.
/// </summary>
public sealed class Sha512ContentTests : IAsyncLifetime
{
    private const string Harbor = "harbor.test";
    private const long LayerSize = 3 * OciImageBuilder.MiB;

    private readonly OciImageBuilder _builder = new(seed: 5120, DigestAlgorithm.Sha512);
    private readonly HttpClient _http = new();
    private StaticRegistry _upstream = null!;
    private AgentProcess _agent = null!;
    private BuiltImage _image = null!;

    public async Task InitializeAsync()
    {
        _image = await _builder.BuildAsync("team/sha512", "1", [LayerSize, 64 * OciImageBuilder.KiB]);
        _upstream = await StaticRegistry.StartAsync([_image]);
        // A scrub pass every second and a checkpoint only on a clean stop: what a crash loses is found again by recovery.
        _agent = await AgentProcess.StartAsync(
            [.. AgentProcess.Upstream(Harbor, _upstream.BaseUri), "--scrub-interval", "1s", "--scrub-rate", "256MiB", "--checkpoint-interval", "1h"]);
    }

    public async Task DisposeAsync()
    {
        await _agent.DisposeAsync();
        await _upstream.DisposeAsync();
        _http.Dispose();
        _builder.Dispose();
    }

    private BlobFile Layer => _image.Layers[0];

    private Uri Url(string path) => new(_agent.BaseUri, $"{path}?ns={Harbor}");

    private string BlobPath(Digest digest) => $"/v2/{_image.Repository}/blobs/{digest}";

    private string CachedFile(Digest digest) => Path.Combine(_agent.CacheDir, "blobs", "sha512", digest.Hex);

    [Fact]
    public async Task A_sha512_image_is_resolved_filled_verified_and_cached_under_blobs_sha512_then_served_warm_without_the_upstream()
    {
        using var byTag = new HttpRequestMessage(HttpMethod.Get, Url($"/v2/{_image.Repository}/manifests/1"));
        byTag.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(_image.ManifestMediaType));
        using var manifest = await _http.SendAsync(byTag);

        Assert.Equal(HttpStatusCode.OK, manifest.StatusCode);
        Assert.Equal(_image.ManifestDigest.ToString(), manifest.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal(_image.ManifestBytes, await manifest.Content.ReadAsByteArrayAsync());
        foreach (var blob in _image.Blobs)
        {
            using var cold = await _http.GetAsync(Url(BlobPath(blob.Digest)));
            Assert.Equal(HttpStatusCode.OK, cold.StatusCode);
            Assert.True(blob.Digest.Matches(await cold.Content.ReadAsByteArrayAsync()), $"cold {blob.Digest}");
            await WaitIndexedAsync(blob.Digest);
            Assert.True(blob.Digest.Matches(await File.ReadAllBytesAsync(CachedFile(blob.Digest))));
        }
        Assert.True(File.Exists(CachedFile(_image.ManifestDigest)));
        Assert.Empty(Directory.GetFiles(Path.Combine(_agent.CacheDir, "blobs", "sha256")));

        var warm = await RawGetAsync(BlobPath(Layer.Digest));
        var rangeThroughKestrel = await RawGetAsync(BlobPath(Layer.Digest), "Range: bytes=0-9\r\n");
        using var byDigest = await _http.GetAsync(Url($"/v2/{_image.Repository}/manifests/{_image.ManifestDigest}"));
        using var range = new HttpRequestMessage(HttpMethod.Get, Url(BlobPath(Layer.Digest)));
        range.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var partial = await _http.SendAsync(range);
        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Url(BlobPath(Layer.Digest))));

        Assert.Equal(200, warm.Status);
        Assert.Equal(Layer.ReadAllBytes(), warm.Body);
        Assert.Equal(Layer.Digest.ToString(), warm.Headers["docker-content-digest"]);
        Assert.True(warm.AnsweredAtTheConnection, $"the warm blob went through Kestrel: {warm.Head}");
        Assert.False(rangeThroughKestrel.AnsweredAtTheConnection, rangeThroughKestrel.Head);
        Assert.Equal(_image.ManifestBytes, await byDigest.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(Layer.ReadAllBytes()[1000..2000], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(Layer.Size, head.Content.Headers.ContentLength);
        Assert.All(_image.Blobs, blob => Assert.Equal(1, _upstream.CountBlobGets(blob.Digest)));
    }

    [Fact]
    public async Task A_sha512_blob_whose_bytes_do_not_match_its_digest_never_completes_a_response_and_is_never_cached()
    {
        _upstream.Tamper(Layer.Digest);

        var tampered = await RawGetAsync(BlobPath(Layer.Digest));

        Assert.False(tampered.Status == 200 && Layer.Digest.Matches(tampered.Body), "the tampered blob was served whole");
        Assert.False(tampered.Complete && tampered.Status == 200, $"a response with the wrong bytes completed: {tampered.Head}");
        Assert.False(File.Exists(CachedFile(Layer.Digest)));
        _upstream.Mend(Layer.Digest);
        var mended = await RawGetAsync(BlobPath(Layer.Digest));
        Assert.Equal(Layer.ReadAllBytes(), mended.Body);
        await WaitIndexedAsync(Layer.Digest);
        Assert.Equal(2, _upstream.CountBlobGets(Layer.Digest));
    }

    [Fact]
    public async Task Sha512_blobs_cached_before_a_crash_are_verified_and_served_after_restart_and_the_scrub_quarantines_one_damaged_on_disk()
    {
        foreach (var blob in _image.Blobs)
        {
            Assert.Equal(200, (await RawGetAsync(BlobPath(blob.Digest))).Status);
            await WaitIndexedAsync(blob.Digest);
        }

        _agent.Kill();
        await _agent.Exited;
        await _agent.RestartAsync();
        var config = _image.Config;
        var afterRestart = await RawGetAsync(BlobPath(config.Digest));
        Assert.Equal(config.ReadAllBytes(), afterRestart.Body);
        Assert.Equal(1, _upstream.CountBlobGets(config.Digest));
        Assert.Contains($"{_image.Blobs.Count} unindexed files verified and indexed", _agent.Output.Text(), StringComparison.Ordinal);

        var damaged = await File.ReadAllBytesAsync(CachedFile(Layer.Digest));
        damaged[damaged.Length / 3] ^= 0x01;
        await File.WriteAllBytesAsync(CachedFile(Layer.Digest), damaged);
        await WaitUntilAsync(() => !File.Exists(CachedFile(Layer.Digest)), "the scrub quarantined the damaged blob");
        var quarantined = Directory.GetFiles(Path.Combine(_agent.CacheDir, "quarantine"));
        var again = await RawGetAsync(BlobPath(Layer.Digest));

        Assert.Single(quarantined, f => Path.GetFileName(f).StartsWith(Layer.Digest.Hex, StringComparison.Ordinal));
        Assert.Equal(Layer.ReadAllBytes(), again.Body);
        Assert.Equal(2, _upstream.CountBlobGets(Layer.Digest));
        Assert.Equal(config.ReadAllBytes(), (await RawGetAsync(BlobPath(config.Digest))).Body);
    }

    [Theory]
    [InlineData("sha512:{hex}", HttpStatusCode.OK, null)]
    [InlineData("sha512:{HEX}", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("sha512:{hex}0", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("sha256:{hex}", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("SHA512:{hex}", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("md5:5d41402abc4b2a76b9719d911017c592", HttpStatusCode.BadRequest, OciErrorCode.DigestInvalid)]
    [InlineData("sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b", HttpStatusCode.NotFound, OciErrorCode.BlobUnknown)]
    public async Task A_blob_asked_for_by_a_digest_that_is_not_canonical_sha256_or_sha512_gets_the_specs_error_and_leaves_the_cache_as_it_was(
        string digest, HttpStatusCode status, string? code)
    {
        Assert.Equal(200, (await RawGetAsync(BlobPath(Layer.Digest))).Status);
        await WaitIndexedAsync(Layer.Digest);
        var asked = digest.Replace("{hex}", Layer.Digest.Hex, StringComparison.Ordinal).Replace("{HEX}", Layer.Digest.Hex.ToUpperInvariant(), StringComparison.Ordinal);

        using var response = await _http.GetAsync(Url($"/v2/{_image.Repository}/blobs/{asked}"));
        using var manifest = await _http.GetAsync(Url($"/v2/{_image.Repository}/manifests/{asked}"));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(status == HttpStatusCode.OK ? HttpStatusCode.NotFound : status, manifest.StatusCode);
        if (code is not null)
        {
            Assert.Contains($"\"code\":\"{code}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(Layer.ReadAllBytes(), (await RawGetAsync(BlobPath(Layer.Digest))).Body);
        Assert.Equal(1, _upstream.CountBlobGets(Layer.Digest));
    }

    private Task WaitIndexedAsync(Digest digest) =>
        WaitUntilAsync(() => _agent.Output.Text().Contains($"Cached blob {digest}", StringComparison.Ordinal), $"blob {digest} is indexed");

    private async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}\n{_agent.LogTail()}");
            await Task.Delay(50);
        }
    }

    // One GET on a connection of its own, spoken by hand as containerd's client speaks it: the connection-level path answers
    // such a request for a warm blob, and its head carries no header Kestrel adds.
    private async Task<RawResponse> RawGetAsync(string path, string headers = "")
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", _agent.BaseUri.Port);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path}?ns={Harbor} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"));
        using var received = new MemoryStream();
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await stream.CopyToAsync(received, timeout.Token);
        }
        catch (IOException)
        {
            // A reset: what arrived before it is what the client got.
        }
        return RawResponse.Parse(received.ToArray());
    }

    private sealed record RawResponse(int Status, string Head, Dictionary<string, string> Headers, byte[] Body)
    {
        /// <summary>As many body bytes arrived as the head announced.</summary>
        public bool Complete => Headers.TryGetValue("content-length", out var length) && long.Parse(length, System.Globalization.CultureInfo.InvariantCulture) == Body.Length;

        /// <summary>
        /// Kestrel writes the headers it knows (Connection, Content-Type, Date) before any other; the connection-level path
        /// writes its own head, with Date after the registry's headers.
        /// </summary>
        public bool AnsweredAtTheConnection =>
            Head.IndexOf("\r\nDate:", StringComparison.Ordinal) > Head.IndexOf("\r\nDocker-Distribution-API-Version:", StringComparison.Ordinal)
            && Head.Contains("\r\nDocker-Distribution-API-Version:", StringComparison.Ordinal);

        public static RawResponse Parse(byte[] bytes)
        {
            var end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
            if (end < 0)
            {
                return new RawResponse(0, Encoding.ASCII.GetString(bytes), [], []);
            }
            var head = Encoding.ASCII.GetString(bytes, 0, end);
            var lines = head.Split("\r\n");
            var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
            return new RawResponse(int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), head, headers, bytes[(end + 4)..]);
        }
    }
}
