"""Co-departments take part (协办意见), from the keyboard over a real central store.

公安局 assists a case 城管局 leads. Its liaison finds the case in its 协办 queue (F10), opens
it, and gives its opinion with the step's digit: a form with the opinion, the handling officer
and a phone, checked beside each field. 城管局's desk gets the toast ``协办意见：<number>``,
sees the opinion above its reply form and replies; the agent's review reads the reply and the
opinion together on the case screen.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, Static, TextArea

from agent_tui.domain.case import Role
from agent_tui.domain.lifecycle import Step
from agent_tui.screens.case_detail import CaseScreen
from agent_tui.screens.queues import QueueScreen
from agent_tui.screens.step_form import StepForm
from agent_tui.server.embedded import EmbeddedServer
from agent_tui.server.store import Store
from tests.pilot.conftest import add_users
from tests.pilot.test_board import LEAD, Http
from tests.pilot.test_case_reading import _whole
from tests.pilot.test_entry import wait_for
from tests.pilot.test_urge import running

OPINION = "经核实该路段夜间有流动摊贩 已安排民警配合城管巡查"
REPLY = "已联合公安清理占道摊点并每晚巡查"


def text_of(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


async def test_a_co_department_gives_its_opinion_the_lead_replies_and_review_sees_both(
    central: EmbeddedServer, central_store: Store, tmp_path: Path
) -> None:
    add_users(central_store.engine, {"gaj01": (Role.DEPARTMENT, "GAJ")})
    http = Http(central.url)
    case = http.case(
        ("dispatch", "agent01", {"department": "CGJ", "co_departments": ["GAJ"]}),
        ("sign", "cgj01", {}),
    )
    lonely = http.case(("dispatch", "agent01", {"department": "CGJ"}))
    async with running(central, tmp_path, "gaj01", "cgj01", "agent01") as t:
        co, lead, agent = t["gaj01"], t["cgj01"], t["agent01"]
        # 城管局's desk has the case in hand (办理中) while 公安局 works on its opinion.
        with lead.context():
            desk = lead.app.screen
            assert isinstance(desk, QueueScreen)
            await lead.pilot.press("f6")
            await wait_for(lambda: case["uuid"] in [k for k, _ in desk.visible_rows()])

        # 公安局: the case is in its 协办 queue (F10), not among the cases it leads.
        with co.context():
            queues = co.app.screen
            assert isinstance(queues, QueueScreen) and queues.queue.key == "incoming"
            await co.pilot.press("f10")
            assert queues.queue.key == "assisting"
            await wait_for(lambda: [k for k, _ in queues.visible_rows()] == [case["uuid"]])
            row = queues.visible_rows()[0][1]
            assert row[6].startswith("协办 剩")  # counted down to its opinion
            await co.pilot.press("f6")  # 办理中: what it leads, not this case
            await co.pilot.pause(0.3)
            assert case["uuid"] not in [k for k, _ in queues.visible_rows()]
            await co.pilot.press("f10", "enter")
            await wait_for(lambda: isinstance(co.app.screen, CaseScreen))
            detail = co.app.screen
            assert isinstance(detail, CaseScreen)
            await wait_for(lambda: detail.steps == [Step.CO_OPINION])
            assert "协办意见" in text_of(detail, "#case-steps")
            assert "市公安局：未提交" in _whole(detail.query_one("#case-fields"))
            await co.pilot.press("1")
            await wait_for(lambda: isinstance(co.app.screen, StepForm))
            form = co.app.screen
            assert isinstance(form, StepForm) and form.step is Step.CO_OPINION
            await co.pilot.press("ctrl+s")  # nothing written: refused beside each field
            assert isinstance(co.app.screen, StepForm)
            assert "请填写协办意见" in text_of(form, "#step-opinion-error")
            assert "请填写经办人" in text_of(form, "#step-officer-error")
            await co.pilot.press(*OPINION, "tab", *"李警官", "tab", *"12345", "ctrl+s")
            assert isinstance(co.app.screen, StepForm)
            assert "电话号码无效" in text_of(form, "#step-phone-error")
            assert text_of(form, "#step-opinion-error") == ""
            assert form.query_one("#step-opinion", TextArea).text == OPINION
            form.query_one("#step-phone", Input).value = ""
            await co.pilot.press(*"13939612345", "ctrl+s")
            await wait_for(lambda: isinstance(co.app.screen, CaseScreen))
        await wait_for(lambda: len(central_store.get_case(LEAD, case["uuid"]).co_opinions) == 1)
        given = central_store.get_case(LEAD, case["uuid"]).co_opinions[0]
        assert (given.department, given.text, given.officer, given.phone) == (
            "GAJ",
            OPINION,
            "李警官",
            "13939612345",
        )
        with co.context():  # the step is done: no second opinion is offered
            await wait_for(lambda: detail.steps == [])

        # 城管局: a toast, then the opinion above its reply form.
        with lead.context():
            await wait_for(lambda: f"协办意见|协办意见：{case['number']}" in lead.toasts())
            lead.app.open_case(case["uuid"])
            await wait_for(lambda: isinstance(lead.app.screen, CaseScreen))
            screen = lead.app.screen
            assert isinstance(screen, CaseScreen)
            await wait_for(lambda: Step.REPLY in screen.steps)
            assert Step.CO_OPINION not in screen.steps
            digit = str([a.form for a in screen.actions].index(Step.REPLY) + 1)
            await lead.pilot.press(digit)
            await wait_for(lambda: isinstance(lead.app.screen, StepForm))
            reply = lead.app.screen
            assert isinstance(reply, StepForm) and reply.step is Step.REPLY
            shown = text_of(reply, "#step-co-opinions")
            assert OPINION in shown and "李警官" in shown and "市公安局" in shown
            # A structured reply: the outcome (1 已解决), what was done, the officer, a phone.
            await lead.pilot.press("1", *REPLY, "tab", *"王强")
            phone = reply.query_one("#step-officer_phone", Input)
            phone.value = "0396 2345678"
            await lead.pilot.press("ctrl+s")
            await wait_for(lambda: isinstance(lead.app.screen, CaseScreen))
        await wait_for(lambda: central_store.get_case(LEAD, case["uuid"]).status == "replied")

        # Review: the reply and the opinion together on the case screen.
        with agent.context():
            agent.app.open_case(case["uuid"])
            await wait_for(lambda: isinstance(agent.app.screen, CaseScreen))
            review = agent.app.screen
            assert isinstance(review, CaseScreen)
            await wait_for(lambda: Step.REVIEW_PASS in review.steps)
            fields = _whole(review.query_one("#case-fields"))
            # (Long values fold over lines: look for pieces of them.)
            assert "已联合公安清理" in fields and "协办意见" in fields
            assert "市公安局（李警官 13939612345" in fields and "经核实该路段" in fields
            # A case without co-departments shows no such line.
            await agent.pilot.press("escape")
            agent.app.open_case(lonely["uuid"])
            await wait_for(
                lambda: (
                    isinstance(agent.app.screen, CaseScreen)
                    and agent.app.screen.case_uuid == lonely["uuid"]
                    and agent.app.screen.cached is not None
                )
            )
            other = agent.app.screen
            await wait_for(lambda: "工单号" in _whole(other.query_one("#case-fields")))
            assert "协办意见" not in _whole(other.query_one("#case-fields"))
    http.client.close()
