using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Native.Map;

/// <summary>
/// Throw sites kept out of the hot methods: a call to a [DoesNotReturn] helper is a few bytes of IL,
/// a `throw new ...` with a formatted message is dozens, and it stops the JIT from inlining.
/// </summary>
[StackTraceHidden]
internal static class ThrowHelper
{
    /// <summary>Go's fatal "concurrent map writes", made catchable.</summary>
    public const string ConcurrentWritesMessage = "concurrent map writes: another write to this NativeMap is in progress (from another thread, or re-entered from a key's Equals/GetHashCode). NativeMap is not thread-safe for writers; the refused write changed nothing.";

    /// <summary>Go's fatal "concurrent map read and map write", made catchable.</summary>
    public const string ConcurrentReadWriteMessage = "concurrent map read and map write: this NativeMap was read while a write was in progress.";

    /// <summary>Go's fatal "concurrent map iteration and map write", made catchable.</summary>
    public const string ConcurrentIterationWriteMessage = "concurrent map iteration and map write: this NativeMap was enumerated while a write was in progress.";

    [DoesNotReturn]
    public static void ThrowConcurrentWrites() => throw new InvalidOperationException(ConcurrentWritesMessage);

    [DoesNotReturn]
    public static void ThrowConcurrentReadWrite() => throw new InvalidOperationException(ConcurrentReadWriteMessage);

    [DoesNotReturn]
    public static void ThrowConcurrentIterationWrite() => throw new InvalidOperationException(ConcurrentIterationWriteMessage);

    /// <summary>A lookup's call into the key's hash or equality code came back to a changed map.</summary>
    [DoesNotReturn]
    public static void ThrowChangedDuringRead() => throw new InvalidOperationException(
        "The map changed while a lookup was running the key's hash or equality code: that code wrote to the map, or another thread did. Nothing was read from the changed map.");

    [DoesNotReturn]
    public static void ThrowDisposed(Type type) => throw new ObjectDisposedException(type.Name, "This NativeMap has been disposed; its native memory is freed.");

    [DoesNotReturn]
    public static void ThrowKeyNotFound<TKey>(TKey key) => throw new KeyNotFoundException($"The given key '{key}' was not present in the NativeMap.");

    [DoesNotReturn]
    public static void ThrowDuplicateKey<TKey>(TKey key) => throw new ArgumentException($"An item with the same key has already been added. Key: {key}", "key");

    [DoesNotReturn]
    public static void ThrowCapacityOutOfRange(string paramName, long value) =>
        throw new ArgumentOutOfRangeException(paramName, value, "Capacity must be non-negative and small enough for a bucket array this process can address.");

    [DoesNotReturn]
    public static void ThrowTooManyEntries() => throw new InvalidOperationException("A NativeMap holds at most int.MaxValue entries.");

    [DoesNotReturn]
    public static void ThrowEnumeratorInvalid() => throw new InvalidOperationException("This enumerator (or a copy of it) has been disposed, or its map was cleared of enumerators by Dispose.");

    [DoesNotReturn]
    public static void ThrowEnumeratorCopyBehind() => throw new InvalidOperationException("This enumerator cannot continue: another copy of it has moved the shared walk on (copies of the struct enumerator share one position past the current group of buckets), or an earlier MoveNext was interrupted by an exception from the key's code. Start a new enumeration.");

    [DoesNotReturn]
    public static void ThrowEnumeratorNotStarted() => throw new InvalidOperationException("Enumeration has either not started or has already finished.");

    [DoesNotReturn]
    public static void ThrowArgumentNull(string paramName) => throw new ArgumentNullException(paramName);

    [DoesNotReturn]
    public static void ThrowArrayTooSmall(string paramName) => throw new ArgumentException("Destination array is not long enough to copy all the items in the map.", paramName);

    [DoesNotReturn]
    public static void ThrowIndexOutOfRange(string paramName, int index) => throw new ArgumentOutOfRangeException(paramName, index, "Index must be within the bounds of the array.");

    [DoesNotReturn]
    public static void ThrowOutputTooShort() => throw new ArgumentException("The output spans must be at least as long as the keys.");

    [DoesNotReturn]
    public static void ThrowSpansOverlap() => throw new ArgumentException("The keys and the output spans must not overlap: keys are read ahead of the outputs written for earlier keys.");

    [DoesNotReturn]
    public static void ThrowNotSupported(string message) => throw new NotSupportedException(message);

    [DoesNotReturn]
    public static void ThrowInvariant(string message) => throw new InvalidOperationException("NativeMap invariant failed: " + message);
}
