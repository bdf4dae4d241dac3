using System.Globalization;

namespace Native.Map.Bench.Common;

/// <summary>
/// Resident memory of this process from <c>/proc/self/status</c> (Linux). The peak (VmHWM) can be
/// reset by writing 5 to <c>/proc/self/clear_refs</c>, so a child process can measure the peak of
/// one phase rather than since start-up.
/// </summary>
internal static class ProcessMemory
{
    /// <summary>Current resident set (VmRSS), or the working set where /proc is missing.</summary>
    public static long ResidentBytes() => ReadStatusKb("VmRSS:") is long kb ? kb * 1024 : Environment.WorkingSet;

    /// <summary>Peak resident set (VmHWM) since start-up or the last <see cref="TryResetPeak"/>.</summary>
    public static long PeakResidentBytes()
    {
        if (ReadStatusKb("VmHWM:") is long kb)
        {
            return kb * 1024;
        }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    /// <summary>Resets the peak to the current resident set; false where the kernel does not allow it.</summary>
    public static bool TryResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>
    /// Minor page faults of this process so far (field 10 of /proc/self/stat), or -1: each is a page the
    /// kernel had to map (and zero) on first touch, the cost of fresh memory.
    /// </summary>
    public static long MinorPageFaults()
    {
        try
        {
            string stat = File.ReadAllText("/proc/self/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[7], CultureInfo.InvariantCulture); // field 10 overall = 8th after the name
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    /// <summary>The machine's 1-minute load average (Linux), or -1.</summary>
    public static double LoadAverage()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return -1;
        }
    }

    private static long? ReadStatusKb(string field)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                string value = line[field.Length..].Trim();
                int space = value.IndexOf(' ', StringComparison.Ordinal);
                return long.Parse(space < 0 ? value : value[..space], CultureInfo.InvariantCulture);
            }
        }
        return null;
    }
}
