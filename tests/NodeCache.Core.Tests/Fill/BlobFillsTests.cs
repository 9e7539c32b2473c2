using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using NodeCache.Core.Tests.Support;
using NodeCache.Fill;
using NodeCache.Oci;
using NodeCache.Telemetry;

namespace NodeCache.Core.Tests.Fill;

/// <summary>Fills against a real HTTP upstream on loopback, into a real cache on disk.</summary>
public sealed class BlobFillsTests : IAsyncLifetime
{
    private static readonly byte[] Content = "hello"u8.ToArray();
    private static readonly Digest BlobDigest = Digest.Parse(TestUpstream.BlobDigest);

    private readonly CacheFolder _cache = new();
    private readonly MirrorMetrics _metrics = new();
    private LoopbackServer _upstream = null!;
    private BlobFills _fills = null!;

    public async Task InitializeAsync()
    {
        _upstream = await LoopbackServer.StartAsync(async context =>
        {
            context.Response.ContentLength = Content.Length;
            await context.Response.Body.WriteAsync(Content);
        });
        _fills = new BlobFills(_cache.Store, _cache.Layout, TestUpstream.Client(), _metrics, NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _metrics.Dispose();
        _cache.Dispose();
    }

    [Fact]
    public async Task A_cached_blob_is_handed_out_without_going_upstream()
    {
        _cache.Store.Put(BlobDigest, Content, MediaTypes.OctetStream);

        var source = await StartAsync();

        Assert.Equal(BlobDigest, source.Cached?.Digest);
        Assert.Null(source.Fill);
        Assert.Empty(_upstream.Requests);
    }

    [Fact]
    public async Task A_blob_an_eviction_is_removing_is_fetched_again_rather_than_handed_out_from_the_copy_that_is_going()
    {
        _cache.Store.Put(BlobDigest, Content, MediaTypes.OctetStream);
        var removal = RemovalUnderWay.Begin(_cache.Store, _cache.Layout, BlobDigest, Content.Length);

        var source = await StartAsync();
        // The removal goes on while the fill runs: the old record and file go, and only then does the fill move its file in.
        removal.Finish();

        Assert.Null(source.Cached);
        Assert.NotNull(source.Fill);
        Assert.Equal(FillState.Committed, await source.Fill.Ended.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(HttpMethods.Get, Assert.Single(_upstream.Requests).Method);
        Assert.True(_cache.Store.TryGet(BlobDigest, out var cached));
        Assert.Equal(Content, await File.ReadAllBytesAsync(cached.Path));
    }

    private Task<BlobSource> StartAsync() =>
        _fills.JoinOrStartAsync(TestUpstream.Route(_upstream), RepositoryName.Parse(TestUpstream.Repository), BlobDigest, CancellationToken.None);
}
