using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NodeCache.Agent.Tests.Support;
using NodeCache.Testing;
using Xunit.Abstractions;

namespace NodeCache.Agent.Tests.Faults;

/// <summary>
/// Hostile requests sent byte for byte over a raw socket (no client library normalises them first) to the real agent:
/// each gets a 4xx, none a 5xx, no file is created outside the cache's folders, an oversized head is refused, and a
/// client that trickles its head is cut off.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class BadInputTests(FaultTable table, ITestOutputHelper output)
{
    private static readonly string Hex = new('0', 64);

    [Fact]
    public async Task Hostile_request_paths_and_heads_get_client_errors_and_touch_no_file_outside_the_cache()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var cancellationToken = timeout.Token;
        await using var scenario = await MirrorScenario.StartAsync("library/target", [64 * OciImageBuilder.KiB], seed: 960, cancellationToken: cancellationToken);
        var agentFolder = Path.GetDirectoryName(scenario.Agent.CacheDir)!;
        var before = FilesOutsideCache(agentFolder, scenario.Agent.CacheDir);
        string[] targets =
        [
            "/v2/../../../../etc/passwd",
            $"/v2/%2e%2e/%2e%2e/etc/passwd/blobs/sha256:{Hex}",
            $"/v2/library%2Fnginx/blobs/sha256:{Hex}",
            "/v2/library/nginx/blobs/..%2F..%2F..%2Fetc%2Fpasswd",
            $"/v2//etc/passwd/blobs/sha256:{Hex}",
            $"/v2/library/nginx/blobs/sha256:{Hex}%00",
            "/v2/library/nginx/manifests/%00",
            "/v2/library/nginx/manifests/..",
            "/v2/library/nginx/blobs/sha256:../../../../tmp/x",
            "/v2/C:%5cWindows/blobs/x",
            $"/v2/library/nginx/blobs/sha256:{Hex}?ns=../../etc",
            $"/v2/library/nginx/blobs/sha256:{Hex}?ns=%00",
            "/etc/passwd",
            $"/v2/{new string('a', 4000)}/blobs/sha256:{Hex}",
        ];

        var answers = new List<(string Target, int Status)>();
        foreach (var target in targets)
        {
            answers.Add((target, await StatusOfAsync(scenario, $"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", cancellationToken)));
        }
        var oversized = await StatusOfAsync(scenario, $"GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: {new string('b', 64 * 1024)}\r\nConnection: close\r\n\r\n", cancellationToken);
        var (cutAfter, cut) = await TrickleAsync(scenario, cancellationToken);
        var after = FilesOutsideCache(agentFolder, scenario.Agent.CacheDir);
        var created = after.Except(before).ToList();

        table.Record(output, new FaultRow(
            "hostile request paths (../, encoded slashes, NUL, absolute, overlong), a 64 KiB header, a client trickling its head",
            "4xx for each, never 5xx; no file created outside the cache; oversized head refused (431); trickling client cut off",
            $"statuses: {string.Join(", ", answers.GroupBy(a => a.Status).Select(g => $"{g.Key} × {g.Count()}"))}; 64 KiB header: {oversized}; " +
            $"trickling client {(cut ? $"cut off after {cutAfter.TotalSeconds:F0} s" : "still connected")}; files created outside the cache: {created.Count}; agent up: {(!scenario.Agent.HasExited ? "yes" : "no")}",
            "none"));
        Assert.All(answers, a => Assert.True(a.Status is >= 400 and < 500, $"{a.Target} answered {a.Status}"));
        Assert.Equal(431, oversized);
        Assert.True(cut, "a client sending one byte a second was never cut off");
        Assert.Empty(created);
        Assert.False(scenario.Agent.HasExited);
        await scenario.WarmAsync(scenario.Layer, cancellationToken);
    }

    private static async Task<int> StatusOfAsync(MirrorScenario scenario, string request, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(scenario.Agent.BaseUri.Host, scenario.Agent.BaseUri.Port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.Latin1.GetBytes(request), cancellationToken);
        var buffer = new byte[64];
        var read = await stream.ReadAtLeastAsync(buffer, 12, throwOnEndOfStream: false, cancellationToken);
        var statusLine = Encoding.Latin1.GetString(buffer, 0, read);
        return statusLine.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(statusLine.AsSpan(9, 3), out var status) ? status : 0;
    }

    // One byte a second of a request head that never ends: Kestrel's head timeout must close the connection.
    private static async Task<(TimeSpan After, bool Cut)> TrickleAsync(MirrorScenario scenario, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(scenario.Agent.BaseUri.Host, scenario.Agent.BaseUri.Port, cancellationToken);
        var stream = client.GetStream();
        var clock = Stopwatch.StartNew();
        var head = Encoding.ASCII.GetBytes("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: " + new string('s', 60));
        try
        {
            foreach (var b in head)
            {
                await stream.WriteAsync(new[] { b }, cancellationToken);
                await Task.Delay(TimeSpan.FromSeconds(0.5), cancellationToken);
                if (client.Client.Poll(0, SelectMode.SelectRead) && client.Available == 0)
                {
                    return (clock.Elapsed, true);
                }
            }
        }
        catch (IOException)
        {
            return (clock.Elapsed, true);
        }
        return (clock.Elapsed, false);
    }

    private static HashSet<string> FilesOutsideCache(string agentFolder, string cacheDir) =>
        [.. Directory.EnumerateFiles(agentFolder, "*", SearchOption.AllDirectories).Where(f => !f.StartsWith(cacheDir + "/", StringComparison.Ordinal))];
}
