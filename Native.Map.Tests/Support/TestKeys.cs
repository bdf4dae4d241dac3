using System.Runtime.CompilerServices;

namespace Native.Map.Tests.Support;

/// <summary>A 16-byte struct key.</summary>
public readonly record struct Key16(long A, long B);

/// <summary>A 200-byte key: stored indirectly (over 128 bytes).</summary>
public struct Big200 : IEquatable<Big200>
{
    private Bytes200 _data;

    public Big200(long seed)
    {
        Span<byte> s = _data;
        var rng = new SplitMix64((ulong)seed);
        for (int i = 0; i < s.Length; i += 8)
        {
            BitConverter.TryWriteBytes(s[i..], rng.Next());
        }
        BitConverter.TryWriteBytes(s, seed);
    }

    public readonly long Seed => BitConverter.ToInt64(_data);

    public readonly bool Equals(Big200 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Big200 b && Equals(b);

    public override readonly int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(_data);
        return h.ToHashCode();
    }

    public override readonly string ToString() => $"Big200({Seed})";

    [InlineArray(200)]
    private struct Bytes200
    {
        private byte _b;
    }
}

/// <summary>A 320-byte value: stored indirectly.</summary>
public struct Big320 : IEquatable<Big320>
{
    private Bytes320 _data;

    public Big320(long seed)
    {
        Span<byte> s = _data;
        for (int i = 0; i < s.Length; i += 8)
        {
            BitConverter.TryWriteBytes(s[i..], seed * 31 + i);
        }
    }

    public readonly long Seed => BitConverter.ToInt64(_data);

    public readonly bool Equals(Big320 other) => ((ReadOnlySpan<byte>)_data).SequenceEqual(other._data);

    public override readonly bool Equals(object? obj) => obj is Big320 b && Equals(b);

    public override readonly int GetHashCode() => Seed.GetHashCode();

    [InlineArray(320)]
    private struct Bytes320
    {
        private byte _b;
    }
}

/// <summary>A key whose Equals ignores <see cref="Note"/>.</summary>
public readonly struct PartialKey(int id, int note) : IEquatable<PartialKey>
{
    public int Id { get; } = id;

    public int Note { get; } = note;

    public bool Equals(PartialKey other) => Id == other.Id;

    public override bool Equals(object? obj) => obj is PartialKey k && Equals(k);

    public override int GetHashCode() => Id;
}

/// <summary>A key with 7 padding bytes after <see cref="Tag"/>.</summary>
public struct PaddedKey : IEquatable<PaddedKey>
{
    public byte Tag;
    public long Value;

    public readonly bool Equals(PaddedKey other) => Tag == other.Tag && Value == other.Value;

    public override readonly bool Equals(object? obj) => obj is PaddedKey k && Equals(k);

    public override readonly int GetHashCode() => HashCode.Combine(Tag, Value);
}

/// <summary>A key whose Equals and GetHashCode can be made to throw, or to call back into a map.</summary>
public readonly struct HostileKey(long id) : IEquatable<HostileKey>
{
    [ThreadStatic]
    public static Func<long, bool>? ThrowOnHash;

    [ThreadStatic]
    public static Func<long, bool>? ThrowOnEquals;

    [ThreadStatic]
    public static Action<long>? OnEquals;

    public long Id { get; } = id;

    public bool Equals(HostileKey other)
    {
        OnEquals?.Invoke(Id);
        if (ThrowOnEquals?.Invoke(Id) == true)
        {
            throw new HostileKeyException($"Equals({Id}) threw");
        }
        return Id == other.Id;
    }

    public override bool Equals(object? obj) => obj is HostileKey k && Equals(k);

    public override int GetHashCode()
    {
        if (ThrowOnHash?.Invoke(Id) == true)
        {
            throw new HostileKeyException($"GetHashCode({Id}) threw");
        }
        return Id.GetHashCode();
    }

    public static void Reset()
    {
        ThrowOnHash = null;
        ThrowOnEquals = null;
        OnEquals = null;
    }

    public override string ToString() => $"HostileKey({Id})";
}

public sealed class HostileKeyException(string message) : Exception(message);
