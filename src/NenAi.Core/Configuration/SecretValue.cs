using System;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;

namespace NenAi.Core.Configuration
{
    /// <summary>
    /// A secret held as a read-only <see cref="SecureString"/>. Its plain bytes exist only inside
    /// <see cref="UseUtf8"/>/<see cref="UseChars"/> callbacks and are zeroed when the callback returns.
    /// </summary>
    public sealed class SecretValue : IDisposable
    {
        private readonly SecureString _value;

        public SecretValue(SecureString value)
        {
            if (value is null) throw new ArgumentNullException(nameof(value));
            _value = value.Copy();
            _value.MakeReadOnly();
        }

        /// <summary>Builds a secret from characters (e.g. an environment variable) and forgets them.</summary>
        public static SecretValue FromChars(ReadOnlySpan<char> chars)
        {
            var secure = new SecureString();
            foreach (char c in chars) secure.AppendChar(c);
            try { return new SecretValue(secure); }
            finally { secure.Dispose(); }
        }

        public int Length => _value.Length;

        public bool IsEmpty => _value.Length == 0;

        /// <summary>Runs <paramref name="use"/> with the UTF-16 characters; the buffer is zeroed afterwards.</summary>
        public T UseChars<T>(Func<char[], T> use)
        {
            char[] chars = new char[_value.Length];
            IntPtr ptr = IntPtr.Zero;
            try
            {
                ptr = Marshal.SecureStringToGlobalAllocUnicode(_value);
                Marshal.Copy(ptr, chars, 0, chars.Length);
                return use(chars);
            }
            finally
            {
                Array.Clear(chars, 0, chars.Length);
                if (ptr != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(ptr);
            }
        }

        /// <summary>Runs <paramref name="use"/> with the UTF-8 bytes; the buffer is zeroed afterwards.</summary>
        public T UseUtf8<T>(Func<byte[], T> use)
        {
            return UseChars(chars =>
            {
                byte[] bytes = Encoding.UTF8.GetBytes(chars);
                try { return use(bytes); }
                finally { Array.Clear(bytes, 0, bytes.Length); }
            });
        }

        /// <summary>An independent secret with the same value: disposing either leaves the other intact.</summary>
        public SecretValue Copy() => new SecretValue(_value);

        /// <summary>A read-only copy, for APIs that take a SecureString (a proxy's NetworkCredential, made per challenge).</summary>
        internal SecureString CopySecureString()
        {
            SecureString copy = _value.Copy();
            copy.MakeReadOnly();
            return copy;
        }

        /// <summary>A header value has to be a string for HttpClient; it is created per request only.</summary>
        internal string RevealForHeader() => UseChars(chars => new string(chars));

        public void Dispose() => _value.Dispose();

        public override string ToString() => "***";
    }
}
