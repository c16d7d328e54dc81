"""The prepared statements of experiments.statements: the plain list chooses the rows Experiment.where_visible_to()
chooses, counts them and pages through them in id order; one experiment is read with the role with_access() gives."""

import pytest

from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.statements import experiment_with_access, run_with_access, visible_experiments
from experiments.tests.factories import ExperimentFactory
from projects.models import ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import ago, from_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Who sees what: each name maps to an experiment; `people` to the users."""
    me, owner, stranger = UserFactory(), UserFactory(), UserFactory()
    mine_alone = ExperimentFactory(owner=me)
    my_project = ProjectFactory(owner=me)
    in_my_project = ExperimentFactory(owner=owner, project=my_project)
    live, expired, ending = ProjectFactory(owner=owner), ProjectFactory(owner=owner), ProjectFactory(owner=owner)
    ProjectMembershipFactory(project=live, user=me, role=ProjectRole.VIEWER)
    ProjectMembershipFactory(project=expired, user=me, expires_at=ago(minutes=1))
    ProjectMembershipFactory(project=ending, user=me, role=ProjectRole.EDITOR, expires_at=from_now(minutes=5))
    experiments = {
        "mine alone": mine_alone,
        "in my project": in_my_project,
        "in a live membership": ExperimentFactory(owner=owner, project=live),
        "in an expired membership": ExperimentFactory(owner=owner, project=expired),
        "in a membership ending soon": ExperimentFactory(owner=owner, project=ending),
        "owner's own": ExperimentFactory(owner=owner),
        "stranger's": ExperimentFactory(owner=stranger, project=ProjectFactory(owner=stranger)),
        "mine in a live membership": ExperimentFactory(owner=me, project=live),
        "mine in an expired membership": ExperimentFactory(owner=me, project=expired),
    }
    return {"people": {"me": me, "owner": owner, "stranger": stranger}, **experiments}


SEES = {
    "me": [
        "mine alone",
        "in my project",
        "in a live membership",
        "in a membership ending soon",
        "mine in a live membership",
        "mine in an expired membership",
    ],
    "owner": [
        "in my project",
        "in a live membership",
        "in an expired membership",
        "in a membership ending soon",
        "owner's own",
        "mine in a live membership",
        "mine in an expired membership",
    ],
    "stranger": ["stranger's"],
}


@pytest.mark.parametrize("who", list(SEES))
def test_the_prepared_list_shows_what_visibility_allows(world, who):
    user = world["people"][who]
    expected = sorted(world[name].pk for name in SEES[who])
    listed = visible_experiments(user)
    assert listed.count() == len(SEES[who])
    assert [experiment.pk for experiment in listed[0:100]] == expected
    assert expected == list(Experiment.objects.where_visible_to(user).order_by("pk").values_list("pk", flat=True))


def test_the_prepared_list_pages_in_id_order(world):
    listed = visible_experiments(world["people"]["owner"])
    ids = sorted(world[name].pk for name in SEES["owner"])
    assert [experiment.pk for experiment in listed[1:3]] == ids[1:3]
    assert [experiment.pk for experiment in listed[4:10]] == ids[4:]
    assert listed[7:10] == []


def test_a_page_of_the_prepared_list_shows_metrics_and_tags(world):
    experiment = ExperimentFactory(owner=world["people"]["stranger"], results={"loss": 0.5})
    listed = visible_experiments(world["people"]["stranger"])[0:10]
    assert [(row.pk, row.results, row.run_tag_values) for row in listed] == [
        (world["stranger's"].pk, {}, {}),
        (experiment.pk, {"loss": 0.5}, {}),
    ]


def test_a_prepared_list_is_read_by_window():
    with pytest.raises(TypeError):
        visible_experiments(UserFactory())[3]


READS = {
    ("me", "mine alone"): "owner",
    ("me", "in my project"): "maintainer",
    ("me", "in a live membership"): "viewer",
    ("me", "in an expired membership"): None,
    ("me", "in a membership ending soon"): "editor",
    ("me", "stranger's"): None,
    ("owner", "in my project"): "owner",
    ("owner", "in an expired membership"): "owner",
    ("owner", "mine alone"): None,
    ("stranger", "owner's own"): None,
    ("me", "mine in an expired membership"): "owner",
    ("owner", "mine in a live membership"): "maintainer",
}


@pytest.mark.parametrize(("who", "what"), list(READS))
def test_one_experiment_is_read_with_the_callers_role(world, who, what):
    user, experiment = world["people"][who], world[what]
    read = experiment_with_access(user, experiment.pk)
    assert (read.pk, read.access_role) == (experiment.pk, READS[who, what])
    assert Experiment.objects.with_access(user).get(pk=experiment.pk).access_role == READS[who, what]


@pytest.mark.parametrize("pk", [0, 2**63, 10**30])
def test_an_id_out_of_range_reads_nothing(pk):
    assert experiment_with_access(UserFactory(), pk) is None


def test_a_missing_experiment_reads_nothing(world):
    assert experiment_with_access(world["people"]["me"], world["stranger's"].pk + 1000) is None


@pytest.mark.parametrize(("who", "what"), list(READS))
def test_one_run_is_read_by_its_run_id_with_the_callers_role(world, who, what):
    user, experiment = world["people"][who], world[what]
    read = run_with_access(user, experiment.run_uuid)
    assert (read.pk, read.run_uuid, read.access_role) == (experiment.pk, experiment.run_uuid, READS[who, what])


@pytest.mark.parametrize("run_id", ["", "0" * 32, "' OR 1=1 --"])
def test_an_unknown_run_id_reads_nothing(world, run_id):
    assert run_with_access(world["people"]["me"], run_id) is None
