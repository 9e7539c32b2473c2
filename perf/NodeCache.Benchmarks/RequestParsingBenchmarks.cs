using BenchmarkDotNet.Attributes;
using NodeCache.Oci;

namespace NodeCache.Benchmarks;

/// <summary>What every registry request parses before it reaches the cache: the name, the digest and the Range header.</summary>
[MemoryDiagnoser]
public class RequestParsingBenchmarks
{
    private const string DigestText = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    [Benchmark]
    public bool Digest_parse() => Digest.TryParse(DigestText, out _);

    [Benchmark]
    public bool Repository_name_parse() => RepositoryName.TryParse("dockerhub-proxy/library/nginx", out _);

    [Benchmark]
    public RangeRequest Range_header_parse() => RangeHeader.Parse("bytes=1048576-2097151", 1L << 30, out _);

    [Benchmark]
    public bool Accept_negotiation() => MediaTypes.IsAccepted(MediaTypes.ManifestAccept, MediaTypes.OciIndex);
}
