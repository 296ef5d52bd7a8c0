using NenAi.Core.Errors;

namespace NenAi.Core.Models
{
    /// <summary>
    /// The one rule for what can be a message id, wherever one comes from (a pipeline input, a signed webhook): it goes
    /// into a URL path (GET /runs/{id}) and into files (the journal, a receiver's state file), so one that could walk
    /// that path ("..", "a/b"), holds control characters, is empty or is longer than <see cref="MaxLength"/> is refused
    /// before any request and never stored. Nothing else is demanded: the spec shows UUIDs only in examples.
    /// </summary>
    public static class MessageIds
    {
        /// <summary>Far above a UUID (36) or any prefixed id a service hands out; a longer one is no id.</summary>
        public const int MaxLength = 128;

        private static readonly char[] PathCharacters = { '/', '\\', '?', '#' };

        /// <summary>The id, trimmed; else NenInvalidMessageId naming the problem.</summary>
        public static string Check(string? messageId)
        {
            string id = (messageId ?? string.Empty).Trim();
            string? problem = Problem(id);
            if (problem is null) return id;
            string message = id.Length == 0 ? "The message id is empty."
                : $"{Shown(id)} is not a message id: {problem}.";
            throw new NenException(NenErrorIds.InvalidMessageId, NenErrorCategory.InvalidArgument, message);
        }

        /// <summary>
        /// Why the trimmed <paramref name="id"/> is no message id ("it is empty", "it would change the request's path"...),
        /// or null when it is one. Never holds the id itself.
        /// </summary>
        public static string? Problem(string id)
        {
            if (id.Length == 0) return "it is empty";
            if (id.Length > MaxLength) return $"it is {id.Length} characters long, and one has at most {MaxLength}";
            foreach (char c in id)
                if (c < 32 || c == 127) return "it holds control characters, which would change the request's path";
            if (id == "." || id == ".." || id.IndexOfAny(PathCharacters) >= 0) return "it would change the request's path";
            return null;
        }

        /// <summary>The id as a message shows it, quoted: its start only when it is too long, and nothing of it when unprintable.</summary>
        public static string Shown(string id)
        {
            foreach (char c in id)
                if (c < 32 || c == 127) return "'(control characters)'";
            return id.Length > MaxLength ? $"'{id.Substring(0, 16)}...'" : $"'{id}'";
        }
    }
}
