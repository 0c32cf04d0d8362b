"""The article editor and the cover image: formatted in the browser, whitelisted on the server,
uploaded to the sandbox as permanent material and used as the article's thumb_media_id when sent."""

from __future__ import annotations

import asyncio
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from playwright.async_api import Page
from sqlalchemy import select

from bot.config import Settings
from reports.period import SHANGHAI
from scheduler.models import SENT, Post
from tests.browser.conftest import EDITOR, Site, login, shot


def image(fmt: str, size: tuple[int, int] = (470, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (183, 28, 28)).save(out, format=fmt)
    return out.getvalue()


async def type_article(page: Page) -> None:
    """Staff type four paragraphs, then format them with the toolbar."""
    await page.click("#editor")
    for i, line in enumerate(("宪法是国家的根本法。", "学习要点", "每年12月4日是国家宪法日", "全国人大网")):
        if i:
            await page.keyboard.press("Enter")
        await page.keyboard.type(line)
    paragraph = page.locator("#editor p")
    await paragraph.nth(0).click(click_count=3)
    await page.click("#toolbar button[data-cmd=bold]")
    await paragraph.nth(1).click()
    await page.click("#toolbar button[data-cmd=heading]")
    await page.locator("#editor p", has_text="宪法日").click()
    await page.click("#toolbar button[data-cmd=list]")
    await page.locator("#editor p", has_text="全国人大网").click(click_count=3)
    page.once("dialog", lambda d: asyncio.ensure_future(d.accept("https://www.npc.gov.cn/")))
    await page.click("#toolbar button[data-cmd=link]")


async def latest_post(site: Site) -> Post:
    async with site.sessions() as s:
        return (await s.execute(select(Post).order_by(Post.id.desc()))).scalars().first()  # type: ignore[return-value]


@pytest.mark.with_scheduler
async def test_formatted_article_with_cover_is_sent_with_the_cover_as_material(page: Page, site: Site,
                                                                                 admin_settings: Settings) -> None:
    png = image("PNG")
    await login(page, site, EDITOR)
    await page.goto(site.url + "/admin/posts/new")
    await page.fill("input[name=title]", "国家宪法日｜学宪法 讲宪法")
    await type_article(page)
    preview = page.frame_locator("#preview")
    assert await preview.locator("b").inner_text() == "宪法是国家的根本法。"
    assert await preview.locator("h3").inner_text() == "学习要点"
    assert await preview.locator("ul li").first.inner_text() == "每年12月4日是国家宪法日"
    assert await preview.locator("a").get_attribute("href") == "https://www.npc.gov.cn/"
    # Named .txt on purpose: the type is judged by the bytes, not the name.
    await page.set_input_files("#cover", files=[{"name": "封面.txt", "mimeType": "text/plain", "buffer": png}])
    await page.locator("#preview-cover:not([hidden])").wait_for()
    await page.wait_for_function("document.getElementById('preview-cover').naturalWidth === 470")
    when = datetime.now(SHANGHAI) + timedelta(seconds=4)
    await page.fill("input[name=send_at]", when.strftime("%Y-%m-%dT%H:%M:%S"))
    await page.wait_for_timeout(300)  # let the resized preview frame paint before the full-page capture
    await shot(page, "post-editor")
    await page.click("button[value=schedule]")
    assert "已保存" in await page.inner_text(".notice")
    post = await latest_post(site)
    assert post.cover_file and post.cover_file.endswith(".png")
    assert (Path(admin_settings.admin.upload_dir) / "covers" / post.cover_file).read_bytes() == png
    for tag in ("<b>宪法是国家的根本法。</b>", "<h3>学习要点</h3>", "<li>每年12月4日是国家宪法日</li>",
                '<a href="https://www.npc.gov.cn/">全国人大网</a>'):
        assert tag in post.body, post.body
    # The saved page shows the stored cover (served to staff only) in the phone frame.
    assert f"/cover?file={post.cover_file}" in (await page.get_attribute("#preview-cover", "src") or "")
    # Loaded after the page itself: wait for it, as for the chosen file above (a bare read raced the load).
    await page.wait_for_function("document.getElementById('preview-cover').naturalWidth === 470")
    # The scheduler sends it: cover uploaded as permanent material, the draft refers to it.
    for _ in range(80):
        post = await latest_post(site)
        if post.state == SENT:
            break
        await asyncio.sleep(0.25)
    assert post.state == SENT, (post.state, post.last_error)
    assert post.thumb_media_id in site.platform.materials
    material = site.platform.materials[post.thumb_media_id]
    assert material.kind == "image" and material.data == png
    article = site.platform.drafts[post.media_id or ""]["articles"][0]
    assert article["thumb_media_id"] == post.thumb_media_id
    assert "<h3>学习要点</h3>" in article["content"]


async def test_pasted_script_is_stripped_and_a_fake_image_is_refused(page: Page, site: Site) -> None:
    await login(page, site, EDITOR)
    await page.goto(site.url + "/admin/posts/new")
    await page.fill("input[name=title]", "粘贴来的正文")
    # What a paste from a web page can bring along.
    await page.evaluate("""document.getElementById('editor').innerHTML =
        '<p onclick="steal()" style="color:red">正文<script>steal()</script></p>' +
        '<a href="javascript:steal()">坏链接</a><img src="x" onerror="steal()"><iframe src="https://x.invalid"></iframe>';
        document.getElementById('editor').dispatchEvent(new Event('input'));""")
    # A text file renamed to .jpg.
    await page.set_input_files("#cover", files=[{"name": "cover.jpg", "mimeType": "image/jpeg",
                                                  "buffer": b"GIF89a not really a picture"}])
    await page.fill("input[name=send_at]", "2099-01-01T08:30:00")
    await page.click("button[value=draft]")
    assert "封面只能是 JPG 或 PNG 图片" in await page.inner_text(".error")
    await page.frame_locator("#preview").locator("p").wait_for()
    await page.wait_for_timeout(300)
    await shot(page, "post-cover-error", full_page=False)
    async with site.sessions() as s:
        assert (await s.execute(select(Post))).first() is None
    # What staff typed comes back, already cleaned; saving without the bad cover works.
    assert await page.locator("#editor script, #editor [onclick], #editor iframe").count() == 0
    await page.click("button[value=draft]")
    assert "已保存" in await page.inner_text(".notice")
    post = await latest_post(site)
    assert post.body == "<p>正文</p><a>坏链接</a>", post.body
    assert post.cover_file is None


async def test_server_checks_the_cover_size_and_bytes(page: Page, site: Site) -> None:
    await login(page, site, EDITOR)
    await page.goto(site.url + "/admin/posts/new")
    csrf = await page.input_value("#post-form input[name=csrf]")
    results = []
    # A JPEG start padded past 2 MB, and a PNG cut short after its header.
    for name, prefix, pad in (("big.jpg", image("JPEG")[:3], 2 * 1024 * 1024 + 10), ("pic.png", image("PNG")[:40], 0)):
        results.append(await page.evaluate("""async ([csrf, name, prefix, pad]) => {
            const bytes = new Uint8Array(prefix.length + pad); bytes.set(prefix);
            const f = new FormData();
            for (const [k, v] of Object.entries({csrf, title: '封面测试', body: '<p>正文</p>', channel: 'wechat',
                 send_at: '2099-01-01T08:30:00', action: 'draft'})) f.append(k, v);
            f.append('cover', new Blob([bytes]), name);
            const r = await fetch('/admin/posts/save', {method: 'POST', body: f});
            return [r.status, await r.text()]; }""", [csrf, name, list(prefix), pad]))
    assert results[0][0] == 400 and "最大 2 MB" in results[0][1]
    assert results[1][0] == 400 and "已损坏" in results[1][1]
    async with site.sessions() as s:
        assert (await s.execute(select(Post))).first() is None


async def test_preview_to_staff_uses_the_openid_set_on_the_settings_page_and_the_cover(page: Page,
                                                                                       site: Site) -> None:
    jpeg = image("JPEG")
    await login(page, site)
    await page.goto(site.url + "/admin/settings")
    await page.fill("input[name='scheduler.preview_openids']", "oStaffPreview01")
    await page.click("#settings-form button[type=submit]")
    assert "已保存" in await page.inner_text(".notice")
    await page.goto(site.url + "/admin/posts/new")
    await page.fill("input[name=title]", "预览带封面")
    await page.click("#editor")
    await page.keyboard.type("先给工作人员看看。")
    await page.set_input_files("#cover", files=[{"name": "cover.jpg", "mimeType": "image/jpeg", "buffer": jpeg}])
    await page.fill("input[name=send_at]", "2099-01-01T08:30:00")
    await page.click("button[value=draft]")
    assert "已保存" in await page.inner_text(".notice")
    preview_button = page.locator("form[action$='/preview'] button")
    await preview_button.scroll_into_view_if_needed()  # below the fold on the office screen
    async with page.expect_navigation():
        await preview_button.click()
    assert "已发送预览给 1/1 位工作人员" in await page.inner_text(".notice")
    previews = [r for r in site.platform.sent if r.kind == "preview"]
    assert [(r.to, r.title) for r in previews] == [("oStaffPreview01", "预览带封面")]
    post = await latest_post(site)
    assert post.thumb_media_id and site.platform.materials[post.thumb_media_id].data == jpeg
    assert site.platform.drafts[previews[0].content]["articles"][0]["thumb_media_id"] == post.thumb_media_id
    # A second preview reuses the stored material instead of uploading the picture again.
    await preview_button.scroll_into_view_if_needed()
    async with page.expect_navigation():
        await preview_button.click()
    assert len([r for r in site.platform.sent if r.kind == "preview"]) == 2
    assert len(site.platform.materials) == 1
    # And the cover can be taken off again.
    await page.check("input[name=remove_cover]")
    await page.click("button[value=draft]")
    assert "已保存" in await page.inner_text(".notice")
    post = await latest_post(site)
    assert post.cover_file is None and post.thumb_media_id is None
    assert await page.locator("#preview-cover[hidden]").count() == 1


async def test_a_cover_survives_a_refused_save(page: Page, site: Site) -> None:
    png = image("PNG")
    await login(page, site, EDITOR)
    await page.goto(site.url + "/admin/posts/new")
    await page.fill("input[name=title]", "时间填错了")
    await page.click("#editor")
    await page.keyboard.type("正文")
    await page.set_input_files("#cover", files=[{"name": "cover.png", "mimeType": "image/png", "buffer": png}])
    await page.fill("input[name=send_at]", "2020-01-01T08:30:00")
    await page.click("button[value=schedule]")
    assert "发送时间已过" in await page.inner_text(".error")
    assert "保存后生效" in await page.inner_text("#cover-status")  # staff need not pick the file again
    await page.wait_for_function("document.getElementById('preview-cover').naturalWidth === 470")
    await page.fill("input[name=send_at]", "2099-01-01T08:30:00")
    await page.click("button[value=draft]")
    assert "已保存" in await page.inner_text(".notice")
    post = await latest_post(site)
    assert post.cover_file and post.cover_file.endswith(".png")


async def test_a_campaign_is_named_as_the_calendar_names_it(page: Page, site: Site) -> None:
    await login(page, site, EDITOR)
    await page.goto(site.url + "/admin/posts/new")
    await page.fill("input[name=title]", "学宪法 讲宪法")
    await page.click("#editor")
    await page.keyboard.type("正文")
    await page.fill("input[name=send_at]", "2099-12-04T08:30:00")
    await page.fill("input[name=campaign]", "宪法节")  # not a campaign: refused, not counted for none
    await page.click("button[value=draft]")
    assert "在宣传日历里找不到" in await page.inner_text(".error")
    await page.fill("input[name=campaign]", "宪法日")  # part of 国家宪法日: that campaign
    await page.click("button[value=draft]")
    assert "已保存" in await page.inner_text(".notice")
    assert (await latest_post(site)).campaign == "constitution_day"
