using System.Globalization;

namespace NodeCache.PerfHarness.Measurement;

/// <summary>A process's resident memory from /proc/&lt;pid&gt;/status: VmHWM is the peak since it started, VmRSS the current.</summary>
internal readonly record struct ProcessMemory(long PeakBytes, long CurrentBytes)
{
    public static ProcessMemory Of(int pid)
    {
        long peak = 0, current = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line) * 1024;
            }
            else if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                current = Kilobytes(line) * 1024;
            }
        }
        return new ProcessMemory(peak, current);
    }

    // "VmHWM:	   81234 kB"
    private static long Kilobytes(string line) =>
        long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
