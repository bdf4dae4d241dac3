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
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot tell which executable this process runs.");
        // Started as `dotnet Native.Map.Bench.dll`: the child needs the assembly path too.
        IEnumerable<string> all = Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? args.Prepend(typeof(SelfProcess).Assembly.Location)
            : args;
        return RunProgram(host, all, environment);
    }

    /// <summary>
    /// Starts <paramref name="program"/> with <paramref name="args"/> (another contestant's child, such
    /// as the Go map's), with stderr let through and stdout captured, as <see cref="Run"/> does.
    /// </summary>
    /// <param name="program">The executable.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="environment">Variables to set (value) or remove (null) in the child.</param>
    /// <param name="workingDirectory">The child's working directory; null for this process's.</param>
    public static (int ExitCode, string Output) RunProgram(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo
        {
            FileName = program,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
        };
        if (workingDirectory is not null)
        {
            psi.WorkingDirectory = workingDirectory;
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
        using Process child = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {program}.");
        string output = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        return (child.ExitCode, output);
    }
}
