# Shared by the Pester suites. Starting and stopping the emulator lives in tools/EmulatorProcess.psm1.
function Get-EmulatorLedger {
    param([string] $BaseUri)
    Invoke-RestMethod -Uri "$BaseUri/_emulator/ledger" -Method Get
}

function ConvertTo-SecretText {
    # Test-only: SecureStrings for the canary values.
    param([string] $Text)
    $secure = [System.Security.SecureString]::new()
    foreach ($c in $Text.ToCharArray()) { $secure.AppendChar($c) }
    $secure.MakeReadOnly()
    $secure
}

Export-ModuleMember -Function Get-EmulatorLedger, ConvertTo-SecretText
