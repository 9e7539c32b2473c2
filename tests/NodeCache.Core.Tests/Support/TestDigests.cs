using System.Text;
using NodeCache.Oci;

namespace NodeCache.Core.Tests.Support;

internal static class TestDigests
{
    public static Digest Of(string text) => Digest.Compute(Encoding.UTF8.GetBytes(text));

    public static Digest Of(int n) => Of($"blob {n}");

    public static Digest Sha512Of(int n) => Digest.Compute(DigestAlgorithm.Sha512, Encoding.UTF8.GetBytes($"blob {n}"));
}
