using System;
using System.IO;

namespace NenAi.Core.Http
{
    /// <summary>Thrown by our connect step: no connection was made, so nothing of the request left.</summary>
    internal sealed class NotConnectedException : IOException
    {
        public NotConnectedException(string message, Exception inner) : base(message, inner)
        {
        }
    }
}
