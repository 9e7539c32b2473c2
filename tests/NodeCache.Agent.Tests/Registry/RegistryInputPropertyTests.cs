using System.Text;
using NodeCache.Agent.Configuration;
using NodeCache.Agent.Registry;
using NodeCache.Oci;
using NodeCache.Store.Blobs;
using NodeCache.Store.Images;
using NodeCache.Upstream;

namespace NodeCache.Agent.Tests.Registry;

/// <summary>
/// Thousands of generated inputs, hostile ones weighted in (dot segments, encoded slashes, NUL, absolute paths, Unicode,
/// overlong parts), through every parser a client or an operator reaches: none throws anything but its documented
/// FormatException, a client's mistake is a 4xx, and whatever decodes names a file inside the cache's blob folder.
/// The seed is fixed, so a failure reproduces.
/// </summary>
public sealed class RegistryInputPropertyTests
{
    private const int Cases = 20_000;

    private static readonly string Hex = new('a', 64);

    private static readonly string[] PathTokens =
    [
        "/", "/", "/", "..", ".", "%2e%2e", "%2E", "%2F", "%2f", "%5c", "\\", "%00", "\0", "blobs", "manifests", "uploads", "tags", "list",
        "referrers", "sha256:", "sha256:" + Hex, "sha256:" + Hex.ToUpperInvariant(), "sha512:" + Hex, Hex, "library", "nginx", "a", "A", "-", "_",
        "__", ".", ":", "@", "?", "#", "~", "é", "\u202e", "\ud800", " ", "\t", "\r\n", new string('a', 300), "//", "/etc/passwd", "C:",
        "latest", "v1.0", "+", "%", "%%", "*",
    ];

    private static readonly string[] RangeTokens =
    [
        "bytes=", "bytes", "=", "-", "0", "1", "9", "00", "18446744073709551616", "9223372036854775807", "-1", ",", " ", "items=", "bytes=-",
        "bytes=0-", "\0", "%", "0x10", "1e3", "BYTES=",
    ];

    [Fact]
    public void Every_decoded_registry_path_names_a_valid_repository_and_a_blob_file_inside_the_cache_or_is_a_client_error()
    {
        var random = new Random(20261124);
        var rules = UpstreamRules.Direct;
        var layout = new CacheLayout(Path.Combine(Path.GetTempPath(), "nodecache-tests", "property-" + Guid.NewGuid().ToString("N")));
        try
        {
            var decoded = 0;
            for (var i = 0; i < Cases; i++)
            {
                var path = Generate(random, PathTokens, 12);
                var ns = random.Next(4) == 0 ? Generate(random, PathTokens, 3) : null;
                var ok = RegistryRequest.TryDecode(path, ns, "docker.io", rules, out _, out var request, out var error);
                if (ok)
                {
                    decoded++;
                    Assert.True(RepositoryName.TryParse(request!.Repository.Value, out _), Show(path));
                    if (request.Resource == RegistryResource.Blob)
                    {
                        var digest = Digest.Parse(request.Reference);
                        var file = Path.GetFullPath(layout.BlobPath(digest));
                        Assert.Equal(layout.BlobDirectory(digest.Algorithm), Path.GetDirectoryName(file));
                    }
                    else if (request.Resource == RegistryResource.TagList)
                    {
                        Assert.Empty(request.Reference);
                    }
                    else
                    {
                        Assert.True(Tag.IsValid(request.Reference) || Digest.TryParse(request.Reference, out _), Show(path));
                    }
                }
                else if (error is not null)
                {
                    Assert.InRange(FailureStatus.Of(error), 400, 499);
                }
            }
            // The generator must reach the decoder's success path too, or the property says nothing about it.
            Assert.True(decoded > 100, $"only {decoded} of {Cases} generated paths decoded");
        }
        finally
        {
            Directory.Delete(layout.Root, recursive: true);
        }
    }

    [Fact]
    public void Every_range_header_is_whole_partial_inside_the_blob_or_unsatisfiable_and_never_throws()
    {
        var random = new Random(7);
        for (var i = 0; i < Cases; i++)
        {
            var header = Generate(random, RangeTokens, 6);
            var size = random.Next(3) switch { 0 => 0, 1 => random.Next(1, 100), _ => random.NextInt64(1, long.MaxValue) };
            var result = RangeHeader.Parse(header, size, out var range);
            if (result == RangeRequest.Partial)
            {
                Assert.True(range.First >= 0 && range.First <= range.Last && range.Last < size, $"'{Show(header)}' on {size} bytes gave {range}");
            }
        }
    }

    [Fact]
    public void A_digest_parses_only_in_its_canonical_form_and_never_throws()
    {
        var random = new Random(11);
        for (var i = 0; i < Cases; i++)
        {
            var text = Generate(random, PathTokens, 3);
            if (Digest.TryParse(text, out var digest))
            {
                Assert.Equal(text, digest.ToString());
            }
        }
        Assert.True(Digest.TryParse("sha256:" + Hex, out _));
    }

    [Fact]
    public void Configuration_values_are_accepted_or_refused_with_one_format_error_never_another_exception()
    {
        var random = new Random(13);
        string[] names = ["cache-size", "cache-high-watermark", "cache-low-watermark", "scrub-rate", "disk-reserve", "shutdown-timeout", "eviction-interval", "listen", "upstream", "tag-ttl", "nope"];
        string[] values = ["20GiB", "80%", "0", "-1", "1e400", "NaN", "101%", "0%", "90%", "10s", "1h", "abc", "", " ", "\0", "127.0.0.1:5050", "docker.io=https://h/p", "5KiB", "1.5GB", "%"];
        for (var i = 0; i < Cases / 4; i++)
        {
            var args = Enumerable.Range(0, random.Next(1, 4))
                .SelectMany(_ => new[] { "--" + names[random.Next(names.Length)], values[random.Next(values.Length)] + (random.Next(5) == 0 ? Generate(random, PathTokens, 1) : "") })
                .ToArray();
            try
            {
                var options = AgentSettings.Load(args, _ => null);
                Assert.True(options.LowWatermark < options.HighWatermark);
                Assert.True(options.ScrubRate >= 0);
            }
            catch (FormatException)
            {
            }
        }
    }

    [Fact]
    public void An_image_reference_either_parses_into_valid_parts_or_is_refused_and_never_throws()
    {
        var random = new Random(17);
        for (var i = 0; i < Cases; i++)
        {
            var text = Generate(random, PathTokens, 8);
            if (ImageReference.TryParse(text, out var reference) && PinnedImage.From(reference) is var image)
            {
                Assert.True(RegistryHost.IsValid(image.Registry));
                Assert.True(Tag.IsValid(image.Reference) || Digest.TryParse(image.Reference, out _));
            }
        }
    }

    private static string Generate(Random random, string[] tokens, int maxTokens)
    {
        var text = new StringBuilder();
        var count = random.Next(1, maxTokens + 1);
        for (var i = 0; i < count; i++)
        {
            text.Append(tokens[random.Next(tokens.Length)]);
        }
        // Half the paths keep the shape a real request has, so the decoder's success path is reached too.
        if (tokens == PathTokens && random.Next(2) == 0)
        {
            var kind = random.Next(2) == 0 ? "blobs" : "manifests";
            var reference = random.Next(2) == 0 ? "sha256:" + Hex : tokens[random.Next(tokens.Length)];
            return $"/library/{Slug(random)}/{kind}/{reference}";
        }
        return text.ToString();
    }

    private static string Slug(Random random) => random.Next(4) switch
    {
        0 => "nginx",
        1 => "a-b_c.d",
        2 => "..",
        _ => "%2e%2e",
    };

    private static string Show(string text) => string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
}
