using System;
using System.Collections.Generic;
using System.Net;

namespace NenAi.Core.Errors
{
    /// <summary>
    /// Every failure the core reports. Carries a stable <see cref="ErrorId"/>, a category, and what the
    /// server said. Messages are built by the core and never contain secrets.
    /// </summary>
    public class NenException : Exception
    {
        public NenException(string errorId, NenErrorCategory category, string message, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Category = category;
        }

        public string ErrorId { get; }
        public NenErrorCategory Category { get; }
        public HttpStatusCode? StatusCode { get; set; }
        /// <summary>The <c>error</c> field of the server's JSON body, when there was one.</summary>
        public string? ServerError { get; set; }
        /// <summary>The <c>message</c> field of the server's JSON body, when there was one.</summary>
        public string? ServerMessage { get; set; }
        /// <summary>Field problems from a 422 answer (field → problem).</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Details { get; set; } = Array.Empty<KeyValuePair<string, string>>();
        /// <summary>How long the server asked us to wait, when it said.</summary>
        public TimeSpan? RetryAfter { get; set; }
        /// <summary>True when retrying the same operation later may succeed.</summary>
        public bool IsTransient { get; set; }

        /// <summary>The same failure (type, id, category, server fields) told with <paramref name="message"/>; this one becomes its inner exception.</summary>
        public NenException WithMessage(string message)
        {
            NenException copy = Copy(message);
            copy.StatusCode = StatusCode;
            copy.ServerError = ServerError;
            copy.ServerMessage = ServerMessage;
            copy.Details = Details;
            copy.RetryAfter = RetryAfter;
            copy.IsTransient = IsTransient;
            return copy;
        }

        protected virtual NenException Copy(string message) => new NenException(ErrorId, Category, message, this);

        public override string ToString() => $"{GetType().FullName} [{ErrorId}]: {Message}";
    }
}
