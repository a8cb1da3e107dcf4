"""The try-it page under its Content-Security-Policy: it still works (a streamed reply, an image
preview from a local file), and the browser reports no violation. (The other browser tests run with
bypass_csp: playwright's wait_for_function evaluates strings, which the policy rightly forbids.)"""

from __future__ import annotations

from tests.browser.conftest import TOKEN

# The smallest PNG (1x1): the preview must load it under img-src.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def test_the_page_works_under_its_security_headers(browser, page_server, tmp_path):
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None)
    response = page.goto(f"{page_server}/")
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY" and response.headers["x-content-type-options"] == "nosniff"
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    page.set_input_files("#image-file", str(image))
    page.wait_for_selector("#preview[src^='data:image/png']")
    assert page.locator("#preview").evaluate("img => img.complete && img.naturalWidth") == 1
    page.fill("#token", TOKEN)
    page.fill("#model", "qwen3.6-flash")  # a model that takes images (a text model would answer 400)
    page.fill("#text", "hello under a policy")
    page.click("#send")
    page.wait_for_selector("#status:has-text('request id')", timeout=20000)
    assert "hello under a policy" in page.text_content("#answer")
    context.close()
    assert violations == []
