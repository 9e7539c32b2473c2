using BenchmarkDotNet.Attributes;
using NodeCache.Oci;

namespace NodeCache.Benchmarks;

/// <summary>
/// What every registry request parses before it reaches the cache (the name, the reference as a tag or digest, the Range
/// header, the Accept header), and the image reference the prefetcher reads from each pod's containers.
/// </summary>
[MemoryDiagnoser]
public class RequestParsingBenchmarks
{
    private const string DigestText = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    [Benchmark]
    public bool Digest_parse() => Digest.TryParse(DigestText, out _);

    [Benchmark]
    public bool Repository_name_parse() => RepositoryName.TryParse("dockerhub-proxy/library/nginx", out _);

    [Benchmark]
    public bool Tag_check() => Tag.IsValid("1.27.3-alpine-slim");

    [Benchmark]
    public bool Image_reference_parse() =>
        ImageReference.TryParse($"harbor.example.com:8443/library/nginx:1.27@{DigestText}", out _);

    [Benchmark]
    public RangeRequest Range_header_parse() => RangeHeader.Parse("bytes=1048576-2097151", 1L << 30, out _);

    [Benchmark]
    public bool Accept_negotiation() => MediaTypes.IsAccepted(MediaTypes.ManifestAccept, MediaTypes.OciIndex);
}
