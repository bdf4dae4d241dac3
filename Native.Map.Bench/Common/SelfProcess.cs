using System.Diagnostics;

namespace Native.Map.Bench.Common;

/// <summary>
/// Runs this executable again with other arguments, so that every measurement gets a process of its
/// own: GC counts, heap size and peak resident memory then belong to one map only.
/// </summary>
internal static class SelfProcess
{
    /// <summary>
    /// Starts this program with <paramref name="args"/>, lets the child's stderr (progress) through,
    /// captures its stdout, waits, and returns (exit code, stdout).
    /// </summary>
    /// <param name="args">Arguments after the program path.</param>
    /// <param name="environment">Variables to set (value) or remove (null) in the child.</param>
    public static (int ExitCode, string Output) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable this process runs.");
        psi.FileName = host;
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // Started as `dotnet Native.Map.Bench.dll`: the child needs the assembly path too.
            psi.ArgumentList.Add(typeof(SelfProcess).Assembly.Location);
        }
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }
        if (environment is not null)
        {
            foreach ((string name, string? value) in environment)
            {
                if (value is null)
                {
                    psi.Environment.Remove(name);
                }
                else
                {
                    psi.Environment[name] = value;
                }
            }
        }
        using Process child = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {host}.");
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output);
    }
}
