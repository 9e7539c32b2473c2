using System.Net;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;

namespace NodeCache.Agent.Tests.Fill;

/// <summary>A request that arrives just as a fill commits must get the blob, whichever side of the commit it lands on.</summary>
public sealed class BlobFillCommitRaceTests
{
    private const int Rounds = 3;

    [Fact]
    public async Task A_get_arriving_as_the_blob_file_appears_in_the_cache_is_served_the_blob()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var cancellationToken = timeout.Token;
        var failures = new List<string>();
        for (var round = 0; round < Rounds; round++)
        {
            // A fresh agent each round: its first commit is its slowest, which is the moment this test aims at.
            await using var scenario = await MirrorScenario.StartAsync("library/racy", [1 * OciImageBuilder.MiB], seed: 701 + round, throughProxy: true, cancellationToken);
            var proxy = scenario.Proxy!;
            var layer = scenario.Layer;
            var held = proxy.HoldAt(layer.Size - 1);
            var first = scenario.Download(layer.Digest, cancellationToken: cancellationToken);
            await held.WaitAsync(cancellationToken);
            // An idle pooled connection, so the racing GET goes out without a connect.
            using (await scenario.Http.GetAsync(new Uri(scenario.Agent.BaseUri, "/healthz"), cancellationToken))
            {
            }

            proxy.Release();
            var path = scenario.CachedPath(layer.Digest);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!File.Exists(path))
            {
                Assert.True(DateTime.UtcNow < deadline, $"{path} never appeared\n{scenario.Agent.LogTail()}");
                Thread.Yield();
            }
            var racer = await scenario.Download(layer.Digest, cancellationToken: cancellationToken).Completion;

            var starter = await first.Completion;
            Assert.True(starter.Complete && starter.BodyDigest == layer.Digest, starter.ToString());
            if (!(racer.Status == HttpStatusCode.OK && racer.Complete && racer.BodyDigest == layer.Digest))
            {
                failures.Add($"round {round + 1}: {racer}\n{scenario.Agent.LogTail(3)}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {Rounds} GETs racing the commit failed:\n{string.Join('\n', failures)}");
    }
}
